"""Base helpers: atomic files, progress, platform limits, time codes, hashing."""
