"""What YouTube and the podcast apps accept: the limits every stage checks against, stated once."""

from __future__ import annotations

# YouTube (videos.insert, thumbnails.set, description chapters)
YOUTUBE_TITLE_MAX = 100  # characters
YOUTUBE_DESCRIPTION_MAX = 5000  # bytes
YOUTUBE_TAGS_MAX = 500  # characters, counted with quotes around tags with spaces and commas
YOUTUBE_THUMBNAIL_MAX = 2 * 1024 * 1024  # bytes
YOUTUBE_FORBIDDEN = "<>"  # refused in titles and descriptions
CHAPTER_MIN_SECONDS = 10.0  # each description chapter at least this long
CHAPTER_MIN_COUNT = 3  # fewer and YouTube shows none
CHAPTER_TITLE_MAX = 49  # characters, so a chapter title stays on one line
HASHTAGS_MAX = 15  # more and YouTube ignores them all

# Podcast feeds (Apple Podcasts, Spotify)
FEED_NOTES_MAX = 4000  # bytes of show notes (HTML)
FEED_TITLE_MAX = 255  # characters of an item title
NOTES_CHAPTER_TITLE_MAX = 40  # characters: Spotify's advice for chapter titles in show notes
ARTWORK_MIN_PX = 1400  # square artwork, RGB, PNG or JPEG
ARTWORK_MAX_PX = 3000
