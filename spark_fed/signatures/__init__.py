"""HTTP signatures for federation: draft-cavage (everyone) and RFC 9421 (Mastodon 4.5+, Fedify).

Pure functions over method, path or URL, headers and body: no web framework, database or network,
so the inbox can parse first, resolve the key asynchronously (with its cache and one refetch),
then verify. See `cavage` and `rfc9421` for the flow.
"""

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

__all__ = [
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
