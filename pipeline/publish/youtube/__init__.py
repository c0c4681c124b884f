"""Publishing to YouTube: sign-in (`auth`), the client (`client`), resumable uploads with
retries (`resumable`), what is sent (`metadata`), the step record (`state`), which video is
an episode's wherever the upload runs (`identity`), one upload of an episode at a time
(`lock`), YouTube's refusals and costs (`failures`) and the `pipeline upload` command
(`upload`)."""
