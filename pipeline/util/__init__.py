"""Base helpers: atomic files and folders, locks, progress, platform limits, time codes,
hashing."""
