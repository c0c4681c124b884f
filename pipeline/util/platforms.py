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
YOUTUBE_THUMBNAIL_MIN_WIDTH = 640  # pixels; 1280x720 recommended
ASPECT_16_9 = 16 / 9

# Apple Podcasts' categories and their subcategories (itunes:category text, as Apple spells
# them); a show names one category and at most one of its subcategories.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing",
                 "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health",
                         "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
                "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary",
             "Politics", "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism",
                                "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
                "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel",
                          "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf",
               "Hockey", "Rugby", "Running", "Soccer", "Softball", "Swimming", "Tennis",
               "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews",
                  "TV Reviews"),
}
