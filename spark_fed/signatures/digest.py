"""Body digests: the draft-cavage `Digest` header and RFC 9530's `Content-Digest`.

A signature covers the digest header, not the body, so a digest that is signed but not checked
against the body would let anyone replay a signed request with another body. The checks here are
Mastodon's (docs/interop.md), with its error messages, so a remote admin reading our 401
sees what Mastodon would have told them.
"""

import base64
import binascii
import hashlib

from .errors import MalformedContentDigest, SignatureError

SHA256_SIZE = 32


def _b64_sha256(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def sha256_digest_header(body: bytes) -> str:
    """`SHA-256=<base64>` for the draft-cavage `Digest` header.

    Uppercase `SHA-256` because Takahē compares the whole header string.
    """
    return f"SHA-256={_b64_sha256(body)}"


def check_digest(header_value: str | None, body: bytes) -> None:
    """Raise SignatureError unless the `Digest` header's SHA-256 matches `body`.

    The header is a comma-separated `algorithm=value` list; names are case-insensitive and
    other algorithms are ignored, but `sha-256` must be among them (RFC 3230, as Mastodon reads it).
    """
    if header_value is None:
        raise SignatureError("Digest header missing")
    offered: dict[str, str] = {}
    for item in header_value.split(","):
        name, _, value = item.partition("=")
        offered.setdefault(name.strip().lower(), value.strip())
    given = offered.get("sha-256")
    if given is None:
        names = ", ".join(offered)
        raise SignatureError(f"Spark only supports SHA-256 in Digest header. Offered algorithms: {names}")
    computed = _b64_sha256(body)
    if given == computed:
        return
    try:
        size = len(base64.b64decode(given, validate=True))
    except (binascii.Error, ValueError):
        raise SignatureError(
            "Invalid Digest value. The provided Digest value is not a valid base64 string. "
            f"Given digest: {given}"
        ) from None
    if size != SHA256_SIZE:
        raise SignatureError(
            f"Invalid Digest value. The provided Digest value is not a SHA-256 digest. Given digest: {given}"
        )
    raise SignatureError(f"Invalid Digest value. Computed SHA-256 digest: {computed}; given: {given}")


def content_digest_header(body: bytes) -> str:
    """`sha-256=:<base64>:` for RFC 9530's `Content-Digest` (an RFC 8941 dictionary)."""
    return f"sha-256=:{_b64_sha256(body)}:"


def _reject_duplicate(key: str, context: str) -> None:
    raise MalformedContentDigest(
        f"Content-Digest could not be parsed. It repeats the {key!r} {context} member."
    )


def parse_content_digest(header_value: str) -> dict[str, object]:
    """The `Content-Digest` dictionary as {algorithm: bare value}; MalformedContentDigest if unparsable."""
    import http_sf  # only RFC 9421 requests carry Content-Digest: not imported at start-up

    try:
        parsed = http_sf.parse(
            header_value.encode("ascii"), tltype="dictionary", on_duplicate_key=_reject_duplicate
        )
    except (ValueError, UnicodeEncodeError):
        raise MalformedContentDigest(
            "Content-Digest could not be parsed. It does not contain a valid RFC8941 dictionary."
        ) from None
    assert isinstance(parsed, dict)
    return {name: member[0] for name, member in parsed.items()}


def check_content_digest(header_value: str | None, body: bytes) -> None:
    """Raise unless `Content-Digest` holds a `sha-256` byte sequence equal to SHA-256(`body`).

    Other algorithms (sha-512, …) are ignored, as Mastodon does: one matching digest we can
    compute is enough to bind the body to the signature.
    """
    if header_value is None:
        raise SignatureError("Content-Digest header missing")
    digests = parse_content_digest(header_value)
    given = digests.get("sha-256")
    if given is None:
        names = ", ".join(digests)
        raise SignatureError(
            f"Spark only supports SHA-256 in Content-Digest header. Offered algorithms: {names}"
        )
    if not isinstance(given, bytes):
        raise SignatureError("Invalid Content-Digest value. The sha-256 member is not a byte sequence")
    given_b64 = base64.b64encode(given).decode("ascii")
    if len(given) != SHA256_SIZE:
        raise SignatureError(
            "Invalid Content-Digest value. The provided value is not a SHA-256 digest. "
            f"Given digest: {given_b64}"
        )
    computed = hashlib.sha256(body).digest()
    if given != computed:
        raise SignatureError(
            f"Invalid Digest value. Computed SHA-256 digest: {_b64_sha256(body)}; given: {given_b64}"
        )
