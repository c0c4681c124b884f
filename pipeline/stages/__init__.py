"""The stages: each reads and writes build files, never imports another stage."""
