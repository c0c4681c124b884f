"""Publishing: YouTube, the feed and its ledger, serve, publish."""
