"""Checking documents fetched from other servers before anything reads them (docs/interop.md)."""

import json
from typing import Any
from urllib.parse import urlsplit

from ..activitystreams import AS2, as_list
from ..http.negotiation import AS2_TYPES, media_type

AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


class InvalidDocument(Exception):
    """A peer answered, but not with a usable ActivityStreams document."""


def parse_as2(content_type: str | None, body: bytes) -> dict[str, Any]:
    if media_type(content_type) not in AS2_TYPES:
        raise InvalidDocument(f"not an ActivityStreams document (Content-Type {content_type or 'none'})")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidDocument("the document is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidDocument("the document is not a JSON object")
    if AS2 not in as_list(document.get("@context")) and f"{AS2}#" not in as_list(document.get("@context")):
        raise InvalidDocument("the document's @context does not include ActivityStreams")
    return document


def same_origin(a: str, b: str) -> bool:
    """Scheme-insensitive host[:port] equality: what ties an id to the server that served it."""
    return urlsplit(a).netloc.lower() == urlsplit(b).netloc.lower()


def host_of(url: str) -> str:
    return urlsplit(url).netloc.lower()


def id_of(value: Any) -> str | None:
    """A reference is a URL string or an object with an `id`; read both."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None
