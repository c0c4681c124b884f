"""The real google-api-python-client, built offline from its bundled discovery document.

$PIPELINE_YOUTUBE_ROOT_URL moves every request, uploads included, to another root: the
media upload paths come from the document's `rootUrl`, which `client_options` does not
change, so the document itself is edited.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import googleapiclient
from googleapiclient.discovery import build_from_document

ROOT_ENV = "PIPELINE_YOUTUBE_ROOT_URL"
DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache/documents/youtube.v3.json"
SECRET_PARAMS = {"access_token", "key", "token"}


def discovery_document(root_url: str | None = None) -> dict[str, Any]:
    """The bundled YouTube v3 document, with every root replaced when one is given."""
    doc = json.loads(DISCOVERY.read_text(encoding="utf-8"))
    if root_url:
        root = root_url.rstrip("/") + "/"
        doc["rootUrl"] = root
        doc["mtlsRootUrl"] = root
        doc["baseUrl"] = root + doc["servicePath"]
    return doc


def build_service(credentials: Any = None, http: Any = None) -> Any:
    """A YouTube service object; pass `credentials` to send, or a bare `http` to only build."""
    doc = discovery_document(os.environ.get(ROOT_ENV))
    return build_from_document(doc, credentials=credentials, http=http)


def strip_secrets(uri: str) -> str:
    """Drop query parameters that could carry a credential (a session URI is safe without)."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in SECRET_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(query)))
