"""Signing in to YouTube: `pipeline youtube-login` and the stored authorised-user token.

The token lives outside the repository (default ~/.config/episode-pipeline/
youtube-token.json, $PIPELINE_YOUTUBE_TOKEN overrides) with owner-only permissions. Its
contents never appear in messages: errors name the file, not what is in it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials

from pipeline.config import YouTubeSettings, load_show, project_root
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


def _paste_flow(flow: Any, port: int) -> None:
    """Sign in on another machine's browser and paste the address it lands on."""
    flow.redirect_uri = f"http://localhost:{port}/"
    url, _ = flow.authorization_url(prompt="consent", access_type="offline")
    click.echo("Open this address in a browser on any machine and allow access:\n")
    click.echo(url + "\n")
    click.echo("The browser then fails to load a http://localhost page: copy that page's "
               "whole address from the address bar and paste it here.")
    answer = click.prompt("Address", hide_input=True).strip()
    # oauthlib insists on https; the loopback redirect is http (as run_local_server does)
    flow.fetch_token(authorization_response=answer.replace("http:", "https:", 1))


def login(secrets: Path, token: Path, mode: str, port: int) -> Credentials:
    """Run Google's installed-app flow and store the token."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=SCOPES)
    except ValueError:
        raise PipelineError("not an OAuth client-secrets file for an installed app", secrets,
                            "download the JSON of a Desktop app OAuth client ID") from None
    if mode == "paste":
        _paste_flow(flow, port)
        credentials = flow.credentials
    else:
        message = ("Open this address in a browser to allow access (on a headless box, "
                   f"forward the port first: ssh -L {port}:localhost:{port} HOST):\n{{url}}")
        credentials = flow.run_local_server(
            port=port, open_browser=mode == "browser", authorization_prompt_message=message,
            access_type="offline", prompt="consent")
    save_token(credentials, token)
    return credentials


@click.command()
@click.option("--client-secrets", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=f"OAuth client-secrets JSON (default: youtube.client_secrets, ${SECRETS_ENV}).")
@click.option("--no-browser", "mode", flag_value="no-browser",
              help="Print the sign-in address instead of opening a browser.")
@click.option("--paste", "mode", flag_value="paste",
              help="Headless: sign in on any machine, then paste the address it lands on.")
@click.option("--port", default=8080, show_default=True, help="Loopback port for the redirect.")
def command(client_secrets: Path | None, mode: str | None, port: int) -> None:
    """Sign in to YouTube and store the token outside the repository."""
    root = project_root()
    if client_secrets is None:
        settings = load_show(root).youtube
        client_secrets = client_secrets_path(settings, root)
    token = token_path()
    login(client_secrets, token, mode or "browser", port)
    click.echo(f"signed in; token stored in {token} (owner-only permissions)")
