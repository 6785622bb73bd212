"""RFC 9421 HTTP Message Signatures, incoming as Mastodon 4.5+ and Fedify send them (docs/interop.md).

The cryptography and the signature base are `http-message-signatures`' `HTTPMessageVerifier`,
used directly (docs/decisions.md): its aiohttp middleware would fix one algorithm for the whole app
and wants a synchronous key resolver. As for draft-cavage, the inbox does

    sig = parse_message_signature(method, target_uri, headers, body)   # parse + policy
    key = await resolve(sig.key_id)
    verify_message_signature(sig, key)

`target_uri` must be built by the caller from the configured scheme and domain plus the raw path:
behind a TLS proxy the URL the app sees (http://127.0.0.1:8000/…) is not the one that was signed.
"""

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import http_sf
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
)
from http_message_signatures.algorithms import ED25519, RSA_V1_5_SHA256, HTTPSignatureAlgorithm
from http_message_signatures.signatures import SignatureVerifyWarning

from ._common import HeaderItems, check_time_window, header_map, unix_now
from .digest import check_content_digest
from .errors import MalformedSignature, SignatureError

REQUIRED_DERIVED = ("@method", "@target-uri")
DEFAULT_LABEL = "sig1"


@dataclass(frozen=True, slots=True)
class MessageSignature:
    """One parsed RFC 9421 signature and the request parts it is checked against.

    `components` are the covered component names in the signer's order (parameters such as
    `;sf` dropped); the signature base itself is rebuilt by the library from the raw headers.
    """

    label: str
    key_id: str
    created: int | None
    expires: int | None
    alg: str | None
    components: tuple[str, ...]
    method: str
    target_uri: str
    headers: tuple[tuple[str, str], ...]
    label_count: int
    content_digest: str | None


def _reject_duplicate(key: str, context: str) -> None:
    raise MalformedSignature(f"Error parsing signature headers: {key} given twice")


def _dictionary(name: str, value: str) -> dict:
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary", on_duplicate_key=_reject_duplicate)
    except (ValueError, UnicodeEncodeError):
        raise MalformedSignature(f"Error parsing {name}: not an RFC 8941 dictionary") from None
    assert isinstance(parsed, dict)
    return parsed


def _int_param(params: Mapping[str, object], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if type(value) is not int:
        raise MalformedSignature(f"Error parsing Signature-Input: {name} must be an integer")
    return value


def read_message_signature(
    method: str,
    target_uri: str,
    headers: HeaderItems,
    label: str | None = None,
) -> MessageSignature:
    """Parse `Signature-Input`/`Signature` and pick one signature; no policy at all.

    Mastodon processes a single signature, so Spark takes `label` or else the first one listed.
    """
    items = tuple(headers.items())
    lower = header_map(headers)
    if "signature-input" not in lower or "signature" not in lower:
        raise SignatureError("Request not signed")
    inputs = _dictionary("Signature-Input", lower["signature-input"])
    signatures = _dictionary("Signature", lower["signature"])
    if not inputs:
        raise MalformedSignature("Error parsing Signature-Input: no signature")
    chosen = label if label is not None else next(iter(inputs))
    member = inputs.get(chosen)
    if member is None or not isinstance(member[0], list):
        raise MalformedSignature(f"Error parsing Signature-Input: no inner list labelled {chosen}")
    if chosen not in signatures or not isinstance(signatures[chosen][0], bytes):
        raise MalformedSignature(f"Error parsing Signature: no byte sequence labelled {chosen}")
    components, params = member
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or not key_id:
        raise SignatureError("Incompatible request signature. keyid and created are required")
    alg = params.get("alg")
    return MessageSignature(
        label=chosen,
        key_id=key_id,
        created=_int_param(params, "created"),
        expires=_int_param(params, "expires"),
        alg=str(alg) if alg is not None else None,
        components=tuple(str(name) for name, _ in components),
        method=method.upper(),
        target_uri=target_uri,
        headers=items,
        label_count=len(inputs),
        content_digest=lower.get("content-digest"),
    )


def check_message_policy(
    sig: MessageSignature, body: bytes | None, now: datetime | float | None = None
) -> None:
    """Mastodon's rules, before any key fetch: created, time window, coverage, Content-Digest."""
    if sig.created is None:
        raise SignatureError("Spark requires the (created) parameter to be signed")
    check_time_window(sig.created, sig.expires, unix_now(now))
    if not all(name in sig.components for name in REQUIRED_DERIVED):
        raise SignatureError("Spark requires the @method and @target-uri derived components to be signed")
    covers_digest = "content-digest" in sig.components
    if (sig.method == "POST" or body) and not covers_digest:
        raise SignatureError(
            "Spark requires the Content-Digest header to be signed when the request has a body"
        )
    if covers_digest:
        check_content_digest(sig.content_digest, body or b"")


def parse_message_signature(
    method: str,
    target_uri: str,
    headers: HeaderItems,
    body: bytes | None,
    now: datetime | float | None = None,
) -> MessageSignature:
    """Parse the first signature and apply Mastodon's policy; the caller then resolves `key_id`."""
    sig = read_message_signature(method, target_uri, headers)
    check_message_policy(sig, body, now)
    return sig


# --- the library's view of a request -----------------------------------------------------------


class _Headers:
    """Field lines as received, repeated names kept: all the library's verifier reads is items()."""

    def __init__(self, lines: Iterable[tuple[str, str]]) -> None:
        self._lines = tuple(lines)

    def items(self) -> tuple[tuple[str, str], ...]:
        return self._lines


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: str
    headers: object


class _OneKey(HTTPSignatureKeyResolver):
    """The key the caller already resolved (asynchronously, with its own cache and refetch)."""

    def __init__(self, public_key: PublicKeyTypes | None = None, private_key: PrivateKeyTypes | None = None):
        self.public_key = public_key
        self.private_key = private_key

    def resolve_public_key(self, key_id: str) -> PublicKeyTypes | None:
        return self.public_key

    def resolve_private_key(self, key_id: str) -> PrivateKeyTypes | None:
        return self.private_key


class _Verifier(HTTPMessageVerifier):
    """The library's verifier minus its own clock: Spark applies Mastodon's window itself."""

    require_created = False
    allow_label_only_selection = True

    def validate_created_and_expires(self, sig_input: object, max_age: object = None) -> None:
        return None


def algorithm_for(key: PublicKeyTypes | PrivateKeyTypes) -> type[HTTPSignatureAlgorithm]:
    """The algorithm the key's type implies; the `alg` parameter never chooses it."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return RSA_V1_5_SHA256
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return ED25519
    raise SignatureError(f"Unsupported key type {type(key).__name__}: only RSA and Ed25519")


def verify_message_signature(sig: MessageSignature, public_key: PublicKeyTypes) -> None:
    """Raise SignatureError unless the chosen signature verifies under `public_key`."""
    verifier = _Verifier(signature_algorithm=algorithm_for(public_key), key_resolver=_OneKey(public_key))
    request = _Request(sig.method, sig.target_uri, _Headers(sig.headers))
    try:
        with warnings.catch_warnings():
            # Picking a signature by its (unsigned) label is what Mastodon does; the library warns.
            warnings.simplefilter("ignore", SignatureVerifyWarning)
            verifier.verify(request, max_age=None, expect_label=sig.label if sig.label_count > 1 else None)
    except HTTPMessageSignaturesException as error:
        raise SignatureError(f"Verification failed for {sig.key_id}: {error}") from None


def verify_message_request(
    method: str,
    target_uri: str,
    headers: HeaderItems,
    body: bytes | None,
    public_key: PublicKeyTypes,
    now: datetime | float | None = None,
) -> MessageSignature:
    """parse_message_signature + verify_message_signature, for a caller that already has the key."""
    sig = parse_message_signature(method, target_uri, headers, body, now)
    verify_message_signature(sig, public_key)
    return sig


def sign_message(
    method: str,
    url: str,
    headers: HeaderItems,
    body: bytes | None,
    key_id: str,
    private_key: PrivateKeyTypes,
    now: datetime | float | None = None,
    label: str = DEFAULT_LABEL,
) -> dict[str, str]:
    """The headers that sign an outgoing request the way Mastodon 4.7 does (docs/interop.md).

    Covers `@method @target-uri`, plus `content-digest` (added here) when there is a body;
    `created` and `keyid`, no `alg`. Returns Content-Digest (with a body), Signature-Input, Signature.
    """
    fields = dict(headers.items())
    if body is None and method.upper() == "POST":
        body = b""  # Mastodon requires content-digest on every POST
    existing_digest = any(name.lower() == "content-digest" for name in fields)
    request = _Request(method.upper(), url, fields)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm_for(private_key), key_resolver=_OneKey(None, private_key)
    )
    signer.sign(
        request,
        key_id=key_id,
        created=datetime.fromtimestamp(int(unix_now(now)), tz=UTC),
        label=label,
        include_alg=False,
        covered_component_ids=REQUIRED_DERIVED,
        body=body,
        use_existing_digest=existing_digest,
    )
    wanted = ("content-digest", "signature-input", "signature")
    return {name: value for name, value in fields.items() if name.lower() in wanted}
