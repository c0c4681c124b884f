"""Media libraries: the ffmpeg layer, audio helpers, music, recordings, text fitting."""
