"""What YouTube's refusals mean, in one line each, and what an upload costs.

Costs from Google's quota table (determine_quota_cost): videos.insert has its own bucket,
100 calls a day at 1 each; every other method shares 10,000 units a day: captions.insert
400, thumbnails.set 50, playlistItems.insert 50, each list call 1 (captions.list 50). Both
reset at midnight Pacific time. `uploadLimitExceeded` is not quota: it is the channel's
own limit on videos uploaded in 24 hours, through the API or not.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from googleapiclient.errors import HttpError

from pipeline.errors import PipelineError
from pipeline.publish.youtube.auth import RELOGIN_FIX
from pipeline.publish.youtube.metadata import describe_reset

UPLOADS_PER_DAY = 100
UNITS_PER_DAY = 10_000
UNITS = {"thumbnail": 50, "captions": 400, "playlist": 50}  # the insert of each step
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded"}
UPLOAD_LIMIT = "uploadLimitExceeded"
UPLOAD_LIMIT_WAIT = dt.timedelta(hours=24)  # what YouTube asks: try again in 24 hours


def upload_cost(steps: list[str]) -> str:
    """What sending these steps costs, in the words of Google's quota table."""
    units = sum(UNITS.get(step, 0) for step in steps)
    parts = ", ".join(f"{step} {UNITS[step]}" for step in steps if step in UNITS)
    video = (f"1 of the project's {UPLOADS_PER_DAY} uploads a day (videos.insert has its "
             "own quota) and " if "video" in steps else "")
    return f"{video}{units:,} of its {UNITS_PER_DAY:,} units a day ({parts})"


def http_reason(exc: HttpError) -> tuple[str, str]:
    """(reason, message) from a Google API error body."""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        first = (error.get("errors") or [{}])[0]
        return first.get("reason", ""), error.get("message") or first.get("message", "")
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return "", ""


def _quota(step: str, detail: str, record: Path, now: dt.datetime) -> PipelineError:
    which = (f"{UPLOADS_PER_DAY} uploads a day" if step.startswith("video")
             else f"{UNITS_PER_DAY:,} units a day")
    return PipelineError(
        f"YouTube quota used up during the {step} ({which}; {detail}); progress is kept",
        record, f"run the same command again after the quota resets at {describe_reset(now)}")


def _upload_limit(step: str, detail: str, record: Path, now: dt.datetime) -> PipelineError:
    again = now + UPLOAD_LIMIT_WAIT
    return PipelineError(
        f"the channel's daily upload limit is reached ({detail}): YouTube limits the videos "
        f"a channel uploads in 24 hours, however they are uploaded; this is not the API "
        f"quota; progress is kept", record,
        f"run the same command again after {again:%Y-%m-%d %H:%M} UTC (YouTube asks to wait "
        "24 hours)")


def explain(exc: HttpError, step: str, record: Path, now: dt.datetime) -> PipelineError:
    """Turn an HTTP error into one line saying what to do; nothing secret is quoted."""
    status = exc.status_code
    reason, message = http_reason(exc)
    detail = f"HTTP {status}" + (f" {reason}" if reason else "") + (
        f": {message}" if message else "")
    if status == 401:
        return PipelineError(f"YouTube refused the sign-in during the {step} ({detail})",
                             record, RELOGIN_FIX)
    if reason == UPLOAD_LIMIT:
        return _upload_limit(step, detail, record, now)
    if status in (403, 429) and reason in QUOTA_REASONS:
        return _quota(step, detail, record, now)
    if reason == "insufficientPermissions":
        return PipelineError(f"the sign-in lacks a permission for the {step} ({detail})", record,
                             RELOGIN_FIX + " and allow every permission")
    if reason == "videoNotFound":
        return PipelineError(f"the episode's video is not on YouTube any more during the "
                             f"{step} ({detail}; deleted?)", record,
                             "`pipeline upload --force` uploads the episode as a new video")
    if reason == "youtubeSignupRequired":
        return PipelineError(f"the signed-in Google account has no YouTube channel ({detail})",
                             record, "create a channel on youtube.com, then run it again")
    if status >= 500:
        return PipelineError(f"YouTube kept failing during the {step} ({detail}); progress "
                             "is kept", record, "run the same command again later")
    return PipelineError(f"YouTube rejected the {step} ({detail})", record)
