"""The stored YouTube sign-in (an authorised-user token) and the OAuth client secrets.

The token lives outside the repository (default ~/.config/episode-pipeline/
youtube-token.json, $PIPELINE_YOUTUBE_TOKEN overrides) with owner-only permissions; a token
file other users could read is refused. Its contents never appear in messages: errors name
the file, not what is in it.

Beside Google's fields the file keeps when the producer signed in (`pipeline_signed_in`)
and whether the sign-in has outlived 7 days (`pipeline_outlived_testing`): an OAuth app
still in "Testing" status gets sign-ins that Google ends after 7 days, so one older than
six days that has not yet proven otherwise is warned about.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials

from pipeline.config import YouTubeSettings
from pipeline.errors import PipelineError
from pipeline.publish.youtube.client import ROOT_ENV
from pipeline.util.fsutil import atomic_path

SCOPES = [
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",  # captions
    "https://www.googleapis.com/auth/youtube",  # playlists
]
TOKEN_ENV = "PIPELINE_YOUTUBE_TOKEN"
SECRETS_ENV = "PIPELINE_YOUTUBE_CLIENT_SECRETS"
LOGIN_FIX = "run `pipeline youtube-login`"
RELOGIN_FIX = "run `pipeline youtube-login` to sign in again"
SIGNED_IN = "pipeline_signed_in"
OUTLIVED = "pipeline_outlived_testing"
TESTING_DAYS = 7  # what a sign-in lasts while the OAuth app is in Testing status
WARN_AFTER = dt.timedelta(days=6)
PUBLISH_APP = ("publish the OAuth app (Google Cloud console > APIs & Services > OAuth consent "
               "screen > Publish app)")


def token_path() -> Path:
    """Where the token is kept: $PIPELINE_YOUTUBE_TOKEN, else under the XDG config folder."""
    if env := os.environ.get(TOKEN_ENV):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "episode-pipeline" / "youtube-token.json"


def client_secrets_path(settings: YouTubeSettings, root: Path) -> Path:
    """The OAuth client-secrets file: $PIPELINE_YOUTUBE_CLIENT_SECRETS, else the setting."""
    raw = os.environ.get(SECRETS_ENV) or settings.client_secrets
    if not raw:
        raise PipelineError(
            "no OAuth client-secrets file configured", root / "assets" / "show.toml",
            f"set youtube.client_secrets or ${SECRETS_ENV} to the file downloaded from "
            "the Google Cloud console (OAuth client ID, type Desktop app)",
        )
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise PipelineError("client-secrets file not found", path,
                            "download it from the Google Cloud console or correct the path")
    return path


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SignIn:
    """A stored sign-in: Google's credentials, and what is kept beside them here."""

    credentials: Credentials
    path: Path
    signed_in: dt.datetime | None = None  # None: a token stored before this was kept
    outlived_testing: bool = False

    def age(self, now: dt.datetime) -> dt.timedelta | None:
        return now - self.signed_in if self.signed_in else None

    def may_expire(self, now: dt.datetime) -> bool:
        """Older than six days and not yet seen to outlive the Testing status's 7 days."""
        age = self.age(now)
        return age is not None and age > WARN_AFTER and not self.outlived_testing

    def warning(self, now: dt.datetime) -> str:
        """One line about a sign-in that Google may end soon; '' when there is none."""
        if not self.may_expire(now):
            return ""
        assert self.signed_in is not None
        return (f"the YouTube sign-in is {self.age(now).days} days old (signed in "
                f"{_stamp(self.signed_in)}); if the OAuth app is still in Testing status, "
                f"Google ends its sign-ins after {TESTING_DAYS} days and uploads then fail: "
                f"{PUBLISH_APP}, then run `pipeline youtube-login`")

    def save(self) -> None:
        """Write the token atomically, readable and writable by its owner only."""
        info = json.loads(self.credentials.to_json())
        if self.signed_in:
            info[SIGNED_IN] = _stamp(self.signed_in)
        if self.outlived_testing:
            info[OUTLIVED] = True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_path(self.path) as tmp:
            os.chmod(tmp, 0o600)
            tmp.write_text(json.dumps(info), encoding="utf-8")


def _check_permissions(path: Path) -> None:
    """Refuse a token file that other users could read or change."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return  # said by the read, with what to do
    if os.name == "posix" and mode & 0o077:
        raise PipelineError(f"the YouTube token file can be read or changed by other users "
                            f"(mode {mode:04o})", path, f"chmod 600 {path}")


def _parse_time(raw: Any) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def read_sign_in(path: Path) -> SignIn:
    """The stored sign-in as it is, without refreshing it."""
    _check_permissions(path)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        credentials = Credentials.from_authorized_user_info(info, SCOPES)
    except FileNotFoundError:
        raise PipelineError("not signed in to YouTube: no token", path, LOGIN_FIX) from None
    except (ValueError, UnicodeDecodeError, AttributeError):
        # the message may quote the file's contents, which are secret: say only what to do
        raise PipelineError("the YouTube token file is not a valid token", path,
                            RELOGIN_FIX) from None
    signed_in = _parse_time(info[SIGNED_IN]) if SIGNED_IN in info else None
    return SignIn(credentials, path, signed_in, bool(info.get(OUTLIVED)))


def _moved(credentials: Credentials) -> Credentials:
    """google-auth always refreshes at Google's endpoint; a moved root takes it along."""
    root = os.environ.get(ROOT_ENV)
    if not root:
        return credentials
    moved = credentials.with_token_uri(root.rstrip("/") + "/token")
    moved.expiry = credentials.expiry  # the copy forgets it
    return moved


def load_sign_in(path: Path | None = None, now: dt.datetime | None = None) -> SignIn:
    """Load the stored token, refreshing (and saving) it when it has expired, or when it is
    past the Testing status's 7 days and has not yet been seen to outlive them."""
    now = now or dt.datetime.now(dt.UTC)
    sign_in = read_sign_in(path or token_path())
    sign_in.credentials = _moved(sign_in.credentials)
    credentials = sign_in.credentials
    if not credentials.has_scopes(SCOPES):
        raise PipelineError("the YouTube token lacks the upload, captions or playlist scope",
                            sign_in.path, RELOGIN_FIX)
    age = sign_in.age(now)
    proving = (age is not None and age > dt.timedelta(days=TESTING_DAYS)
               and not sign_in.outlived_testing)
    if credentials.valid and not proving:
        return sign_in
    if not credentials.refresh_token:
        raise PipelineError("the YouTube sign-in has expired and cannot be refreshed",
                            sign_in.path, RELOGIN_FIX)
    _refresh(sign_in, now)
    sign_in.outlived_testing = sign_in.outlived_testing or proving
    sign_in.save()
    return sign_in


def load_credentials(path: Path | None = None) -> Credentials:
    """The stored sign-in's credentials, refreshed when needed."""
    return load_sign_in(path).credentials


def refresh_refused(sign_in: SignIn, now: dt.datetime, during: str = "",
                    record: Path | None = None) -> PipelineError:
    """Google would not refresh the sign-in: say so, and name the Testing status when the
    sign-in is old enough for it to be the cause."""
    why, fix = "revoked or expired", RELOGIN_FIX
    age = sign_in.age(now)
    if sign_in.may_expire(now) and age is not None:
        why = (f"revoked or expired; it is {age.days} days old, and an OAuth app in Testing "
               f"status gets sign-ins that end after {TESTING_DAYS} days")
        fix = f"{PUBLISH_APP}, then run `pipeline youtube-login`"
    during = f" during the {during}" if during else ""
    return PipelineError(f"Google refused to refresh the YouTube sign-in{during} ({why})",
                         record or sign_in.path, fix)


def _refresh(sign_in: SignIn, now: dt.datetime) -> None:
    from google.auth.transport.requests import Request

    try:
        sign_in.credentials.refresh(Request())
    except RefreshError:
        raise refresh_refused(sign_in, now) from None
    except TransportError:
        raise PipelineError("could not reach Google to refresh the YouTube sign-in",
                            sign_in.path, "check the network and run the command again") from None
