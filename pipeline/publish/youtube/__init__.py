"""Publishing to YouTube: sign-in (`auth`), the client (`client`), resumable uploads with
retries (`resumable`), what is sent (`metadata`), the step record (`state`) and the
`pipeline upload` command (`upload`)."""
