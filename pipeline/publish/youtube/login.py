"""`pipeline youtube-login`: Google's installed-app sign-in, stored as the token that
`pipeline upload` uses (publish/youtube/auth)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click
from google.oauth2.credentials import Credentials

from pipeline.config import load_show, project_root
from pipeline.errors import PipelineError
from pipeline.publish.youtube.auth import (
    PUBLISH_APP,
    SCOPES,
    SECRETS_ENV,
    TESTING_DAYS,
    SignIn,
    client_secrets_path,
    read_sign_in,
    token_path,
)


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
    store(credentials, token)
    return credentials


def _earlier(token: Path) -> SignIn | None:
    try:
        return read_sign_in(token)
    except PipelineError:
        return None


def store(credentials: Credentials, token: Path) -> None:
    """Save a new sign-in. Unless an earlier sign-in of the same OAuth client outlived the
    Testing status's 7 days (so the app is published), say when Google may end it."""
    earlier = _earlier(token)
    published = bool(earlier and earlier.outlived_testing
                     and earlier.credentials.client_id == credentials.client_id)
    now = dt.datetime.now(dt.UTC)
    SignIn(credentials, token, now, outlived_testing=published).save()
    if not published:
        ends = now + dt.timedelta(days=TESTING_DAYS)
        click.echo(f"note: if the OAuth app is in Testing status, Google ends this sign-in "
                   f"after {TESTING_DAYS} days ({ends:%Y-%m-%d %H:%M} UTC); to keep it, "
                   f"{PUBLISH_APP}", err=True)


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
