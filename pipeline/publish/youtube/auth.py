"""The stored YouTube sign-in (an authorised-user token) and the OAuth client secrets.

The token lives outside the repository (default ~/.config/episode-pipeline/
youtube-token.json, $PIPELINE_YOUTUBE_TOKEN overrides) with owner-only permissions. Its
contents never appear in messages: errors name the file, not what is in it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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


def save_token(credentials: Credentials, path: Path) -> None:
    """Write the token atomically, readable and writable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with atomic_path(path) as tmp:
        os.chmod(tmp, 0o600)
        tmp.write_text(credentials.to_json(), encoding="utf-8")


def _read_token(path: Path) -> Credentials:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return Credentials.from_authorized_user_info(info, SCOPES)
    except FileNotFoundError:
        raise PipelineError("not signed in to YouTube: no token", path, LOGIN_FIX) from None
    except (ValueError, UnicodeDecodeError):
        # the message may quote the file's contents, which are secret: say only what to do
        raise PipelineError("the YouTube token file is not a valid token", path,
                            RELOGIN_FIX) from None


def load_credentials(path: Path | None = None) -> Credentials:
    """Load the stored token, refreshing (and saving) it when it has expired."""
    path = path or token_path()
    credentials = _read_token(path)
    if root := os.environ.get(ROOT_ENV):
        # google-auth always refreshes at Google's endpoint; a moved root takes it along
        moved = credentials.with_token_uri(root.rstrip("/") + "/token")
        moved.expiry = credentials.expiry  # the copy forgets it
        credentials = moved
    if not credentials.has_scopes(SCOPES):
        raise PipelineError("the YouTube token lacks the upload, captions or playlist scope",
                            path, RELOGIN_FIX)
    if credentials.valid:
        return credentials
    if not credentials.refresh_token:
        raise PipelineError("the YouTube sign-in has expired and cannot be refreshed", path,
                            RELOGIN_FIX)
    _refresh(credentials, path)
    save_token(credentials, path)
    return credentials


def _refresh(credentials: Credentials, path: Path) -> None:
    from google.auth.transport.requests import Request

    try:
        credentials.refresh(Request())
    except RefreshError:
        raise PipelineError("Google refused to refresh the YouTube sign-in (revoked or "
                            "expired)", path, RELOGIN_FIX) from None
    except TransportError:
        raise PipelineError("could not reach Google to refresh the YouTube sign-in", path,
                            "check the network and run the command again") from None
