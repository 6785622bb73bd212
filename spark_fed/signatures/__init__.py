"""HTTP signatures for federation: draft-cavage (everyone) and RFC 9421 (Mastodon 4.5+, Fedify).

Pure functions over method, path or URL, headers and body: no web framework, database or network,
so the inbox can parse first, resolve the key asynchronously (with its cache and one refetch),
then verify. See `cavage` and `rfc9421` for the flow.

`rfc9421` (with `http-message-signatures` and `http_sf` behind it) is imported on first use of one
of its names: most peers still sign with draft-cavage, and a server that never sees an RFC 9421
request does not carry those libraries (docs/decisions.md, Footprint).
"""

from typing import TYPE_CHECKING, Any

from ._common import REPLAY_WINDOW
from .cavage import (
    CavageSignature,
    build_signing_string,
    check_policy,
    parse_request_signature,
    parse_signature_params,
    read_signature,
    sign_headers,
    signature_matches,
    verify,
    verify_request,
)
from .digest import (
    check_content_digest,
    check_digest,
    content_digest_header,
    parse_content_digest,
    sha256_digest_header,
)
from .errors import MalformedContentDigest, MalformedSignature, SignatureError

if TYPE_CHECKING:
    from .rfc9421 import (
        MessageSignature,
        algorithm_for,
        check_message_policy,
        parse_message_signature,
        read_message_signature,
        sign_message,
        verify_message_request,
        verify_message_signature,
    )

_RFC9421_NAMES = frozenset(
    {
        "MessageSignature",
        "algorithm_for",
        "check_message_policy",
        "parse_message_signature",
        "read_message_signature",
        "sign_message",
        "verify_message_request",
        "verify_message_signature",
    }
)


def __getattr__(name: str) -> Any:
    if name in _RFC9421_NAMES:
        from . import rfc9421

        value = getattr(rfc9421, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REPLAY_WINDOW",
    "CavageSignature",
    "MalformedContentDigest",
    "MalformedSignature",
    "MessageSignature",
    "SignatureError",
    "algorithm_for",
    "build_signing_string",
    "check_content_digest",
    "check_digest",
    "check_message_policy",
    "check_policy",
    "content_digest_header",
    "parse_content_digest",
    "parse_message_signature",
    "parse_request_signature",
    "parse_signature_params",
    "read_message_signature",
    "read_signature",
    "sha256_digest_header",
    "sign_headers",
    "sign_message",
    "signature_matches",
    "verify",
    "verify_message_request",
    "verify_message_signature",
    "verify_request",
]
