"""draft-cavage HTTP signatures, as Mastodon sends and checks them (docs/interop.md).

Verification is split so that the inbox never fetches a key for a request that would fail anyway
and never blocks on the network inside this module:

    sig = parse_request_signature(method, raw_path, headers, body)   # parse + Mastodon's policy
    key = await resolve(sig.key_id)                                   # the caller's cache/fetch
    verify(sig, key)                                                  # RSA or Ed25519 only

`read_signature` and `signature_matches` are the layer below the policy: they build the signing
string and check the signature, nothing else, which is what the draft's own test vectors exercise.

`cryptography` is imported by the functions that sign and verify: a key object reaching them means
it is loaded already, and parsing a signature (which may fail before any key is needed) does not
need it (docs/decisions.md, Footprint).
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import formatdate
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._common import HeaderItems, check_time_window, header_map, parse_http_date, unix_now
from .digest import check_digest, sha256_digest_header
from .errors import MalformedSignature, SignatureError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
    from cryptography.hazmat.primitives.hashes import SHA256

REQUEST_TARGET = "(request-target)"
SUPPORTED_ALGORITHMS = ("rsa-sha256", "hs2019")

# Mastodon's SignatureParser: `key=value` pairs, value a token or a quoted string, separated by
# commas with optional whitespace (draft-cavage-12 §4, RFC 7230 §3.2.6).
_TOKEN = r"[0-9A-Za-z!#$%&'*+.^_`|~-]+"
_PARAM = re.compile(rf'({_TOKEN})\s*=\s*(?:({_TOKEN})|"((?:[^\\"]+|\\.)*)")')
_SEPARATOR = re.compile(r"\s*,\s*")
_QUOTED_PAIR = re.compile(r"\\(.)")
_UNIX_TIME = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class CavageSignature:
    """A parsed draft-cavage signature: who claims to have signed, and what to check.

    It carries what the policy needs from the request (method, Date, Digest), so it can be
    checked and verified without the request. The signing strings are built at parse time (they
    need the request, not the key): the one with the query string first and, when there is a
    query, one without it, because Mastodon before 4.3 signed `(request-target)` without it
    (docs/interop.md).
    """

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: bytes
    created: str | None
    expires: str | None
    signing_strings: tuple[bytes, ...]
    method: str
    date: str | None
    digest: str | None


def parse_signature_params(value: str) -> dict[str, str]:
    """The parameters of a `Signature` header (or of `Authorization: Signature …`).

    A leading `Signature ` is tolerated (old node-http-signature sent it); a repeated
    parameter is an error, because which of the two counts would be a guess.
    """
    text = value.strip()
    if text[:10].lower() == "signature ":
        text = text[10:].lstrip()
    params: dict[str, str] = {}
    pos = 0
    while match := _PARAM.match(text, pos):
        name, token, quoted = match.groups()
        if name in params:
            raise MalformedSignature(f"Error parsing signature parameters: {name} given twice")
        if token is not None:
            params[name] = token
        else:
            params[name] = _QUOTED_PAIR.sub(r"\1", quoted) if "\\" in quoted else quoted
        pos = match.end()
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos == len(text):
            return params
        separator = _SEPARATOR.match(text, pos)
        if separator is None:
            break
        pos = separator.end()
    raise MalformedSignature("Error parsing signature parameters")


def _signature_header(headers: Mapping[str, str]) -> str:
    if "signature" in headers:
        return headers["signature"]
    authorization = headers.get("authorization", "")
    if authorization[:10].lower() == "signature ":
        return authorization
    raise SignatureError("Request not signed")


def build_signing_string(
    signed_headers: tuple[str, ...],
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
    params: Mapping[str, str],
) -> str:
    """The draft's signing string: `name: value` lines in the sender's order, no final newline.

    `headers` is keyed by lowercase name. `(created)`/`(expires)` come from the parameters and
    exist only for hs2019, as in Mastodon.
    """
    algorithm = params.get("algorithm", "hs2019")
    lines = []
    for name in signed_headers:
        if name == REQUEST_TARGET:
            lines.append(f"{REQUEST_TARGET}: {method.lower()} {path_with_query}")
        elif name in ("(created)", "(expires)"):
            param = name[1:-1]
            if algorithm != "hs2019":
                raise SignatureError(f"Invalid pseudo-header {name} for {algorithm}")
            if not params.get(param):
                raise SignatureError(f"Pseudo-header {name} used but corresponding argument missing")
            lines.append(f"{name}: {params[param]}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"Signed header {name} is missing from the request")
    return "\n".join(lines)


def _decode_signature(value: str) -> bytes:
    try:
        return base64.b64decode(value)
    except (binascii.Error, ValueError):
        raise MalformedSignature("Error parsing signature parameters: signature is not base64") from None


def read_signature(method: str, path_with_query: str, headers: HeaderItems) -> CavageSignature:
    """Parse the request's signature and build its signing strings; no policy at all.

    `path_with_query` is the raw request target as received (aiohttp's `request.raw_path`).
    """
    lower = header_map(headers)
    params = parse_signature_params(_signature_header(lower))
    missing = [name for name in ("keyId", "signature") if not params.get(name)]
    if missing:
        raise SignatureError(f"Incompatible request signature. {' and '.join(missing)} are required")
    algorithm = params.get("algorithm", "hs2019")
    default = "(created)" if algorithm == "hs2019" else "date"
    signed = tuple(params.get("headers", default).lower().split())
    targets = [path_with_query]
    if "?" in path_with_query:
        targets.append(path_with_query.split("?", 1)[0])
    strings = tuple(
        build_signing_string(signed, method, target, lower, params).encode("utf-8") for target in targets
    )
    if REQUEST_TARGET not in signed:
        strings = strings[:1]
    return CavageSignature(
        key_id=params["keyId"],
        algorithm=algorithm,
        headers=signed,
        signature=_decode_signature(params["signature"]),
        created=params.get("created"),
        expires=params.get("expires"),
        signing_strings=strings,
        method=method.upper(),
        date=lower.get("date"),
        digest=lower.get("digest"),
    )


def _unix_param(name: str, value: str | None) -> float | None:
    if value is None:
        return None
    if not _UNIX_TIME.fullmatch(value.strip()):
        raise MalformedSignature(f"Error parsing signature parameters: {name} is not a Unix time")
    return float(value)


def _signed_times(sig: CavageSignature) -> tuple[float, float | None]:
    """When the signature was made and when it expires, read only from what it signs.

    A `created=` or `expires=` parameter outside the signed headers is not covered by the
    signature: anyone replaying the request could freshen it. So `created` counts only when
    `(created)` is signed (else the signed Date does) and `expires` only when `(expires)` is.
    Mastodon reads both parameters whether signed or not; Spark does not, and refuses a
    signature that covers no time at all. (`(created)` and `(expires)` can only be signed
    under hs2019, which `build_signing_string` has checked.)
    """
    if "(created)" in sig.headers:
        created: float | None = _unix_param("created", sig.created)
    elif "date" in sig.headers and sig.date:
        created = parse_http_date(sig.date)
    else:
        created = None
    if created is None:
        raise SignatureError("Spark requires the Date header or (created) pseudo-header to be signed")
    expires = _unix_param("expires", sig.expires) if "(expires)" in sig.headers else None
    return created, expires


def _check_strength(sig: CavageSignature) -> None:
    signed = set(sig.headers)
    if not signed & {"date", "(created)"}:
        raise SignatureError("Spark requires the Date header or (created) pseudo-header to be signed")
    if not signed & {REQUEST_TARGET, "digest"}:
        raise SignatureError(
            "Spark requires the Digest header or (request-target) pseudo-header to be signed"
        )
    if sig.method == "GET" and "host" not in signed:
        raise SignatureError("Spark requires the Host header to be signed when doing a GET request")
    if sig.method == "POST" and "digest" not in signed:
        raise SignatureError("Spark requires the Digest header to be signed when doing a POST request")


def check_policy(sig: CavageSignature, body: bytes | None, now: datetime | float | None = None) -> None:
    """Mastodon's rules for an acceptable signature, checked before any key is fetched.

    In Mastodon's order: algorithm name, time window (from the signed Date or `(created)`, and
    `(expires)` when signed), which headers must be covered, then the Digest against the body.
    """
    if sig.algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError("Unsupported signature algorithm (only rsa-sha256 and hs2019 are supported)")
    check_time_window(*_signed_times(sig), unix_now(now))
    _check_strength(sig)
    if "digest" in sig.headers:
        check_digest(sig.digest, body or b"")


def parse_request_signature(
    method: str,
    path_with_query: str,
    headers: HeaderItems,
    body: bytes | None,
    now: datetime | float | None = None,
) -> CavageSignature:
    """Parse the signature and apply Mastodon's policy; the caller then resolves `key_id`."""
    sig = read_signature(method, path_with_query, headers)
    check_policy(sig, body, now)
    return sig


@functools.cache
def _pkcs1_sha256() -> tuple[PKCS1v15, SHA256]:
    """RSA's padding and hash, made once (on the first RSA signature, not at import)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return padding.PKCS1v15(), hashes.SHA256()


def _verifies(public_key: PublicKeyTypes, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, *_pkcs1_sha256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            raise SignatureError(f"Unsupported key type {type(public_key).__name__}: only RSA and Ed25519")
    except InvalidSignature:
        return False
    return True


def signature_matches(sig: CavageSignature, public_key: PublicKeyTypes) -> bool:
    """Whether the signature verifies under `public_key` for any of the signing strings.

    The key's type picks the algorithm (RSA: PKCS#1 v1.5 with SHA-256; Ed25519), never the
    `algorithm` parameter, so a sender cannot downgrade us to HMAC with our own public key.
    """
    return any(_verifies(public_key, sig.signature, data) for data in sig.signing_strings)


def verify(sig: CavageSignature, public_key: PublicKeyTypes) -> None:
    """Raise SignatureError unless the signature verifies; the caller may refetch the key and retry."""
    if not signature_matches(sig, public_key):
        raise SignatureError(f"Verification failed for {sig.key_id}")


def verify_request(
    method: str,
    path_with_query: str,
    headers: HeaderItems,
    body: bytes | None,
    public_key: PublicKeyTypes,
    now: datetime | float | None = None,
) -> CavageSignature:
    """parse_request_signature + verify in one call, for a caller that already has the key."""
    sig = parse_request_signature(method, path_with_query, headers, body, now)
    verify(sig, public_key)
    return sig


# --- signing ---------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _host_of(url_netloc: str, scheme: str) -> str:
    host = url_netloc.rpartition("@")[2]
    default_port = {"http": ":80", "https": ":443"}.get(scheme)
    if default_port and host.endswith(default_port):
        host = host[: -len(default_port)]
    return host


def sign_bytes(private_key: PrivateKeyTypes, data: bytes) -> bytes:
    """Sign with the key's own algorithm: RSA PKCS#1 v1.5 SHA-256, or Ed25519."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, *_pkcs1_sha256())
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    raise TypeError(f"Unsupported key type {type(private_key).__name__}: only RSA and Ed25519")


def sign_headers(
    method: str,
    url: str,
    headers: HeaderItems,
    body: bytes | None,
    key_id: str,
    private_key: PrivateKeyTypes,
    now: datetime | float | None = None,
) -> dict[str, str]:
    """The headers to add to an outgoing request so that Mastodon accepts its signature.

    Returns Host, Date, Digest (POST or any body) and Signature. POST signs
    `(request-target) host date digest content-type`, GET `(request-target) host date accept`
    (content-type/accept only when present in `headers`). `body` must be the exact bytes sent.
    A Host or Date already in `headers` is kept and signed as is.
    """
    from cryptography.hazmat.primitives.asymmetric import rsa

    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    given = header_map(headers)
    added = {
        "Host": given.get("host") or _host_of(parts.netloc, parts.scheme),
        "Date": given.get("date") or formatdate(unix_now(now), usegmt=True),
    }
    values = {"host": added["Host"], "date": added["Date"]}
    signed = [REQUEST_TARGET, "host", "date"]
    if body is not None or method.upper() == "POST":
        added["Digest"] = values["digest"] = sha256_digest_header(body or b"")
        signed.append("digest")
        if "content-type" in given:
            signed.append("content-type")
            values["content-type"] = given["content-type"]
    elif method.upper() == "GET" and "accept" in given:
        signed.append("accept")
        values["accept"] = given["accept"]
    algorithm = "rsa-sha256" if isinstance(private_key, rsa.RSAPrivateKey) else "hs2019"
    names = tuple(signed)
    signing_string = build_signing_string(names, method, target, values, {"algorithm": algorithm})
    signature = base64.b64encode(sign_bytes(private_key, signing_string.encode("utf-8"))).decode("ascii")
    added["Signature"] = (
        f"keyId={_quote(key_id)},algorithm={_quote(algorithm)},"
        f"headers={_quote(' '.join(names))},signature={_quote(signature)}"
    )
    return added
