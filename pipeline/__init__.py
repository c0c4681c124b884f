"""The episode pipeline: a newsletter issue in Markdown in, a narrated episode out."""

__version__ = "0.1.0"
