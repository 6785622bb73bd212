"""Who signed an incoming request: draft-cavage or RFC 9421, verified against the actor's key.

The RFC 9421 module is imported only when a request carries `Signature-Input` (docs/decisions.md,
Footprint): a server whose peers all sign with draft-cavage never loads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..config import Config
from ..models import Account
from ..signatures import SignatureError, parse_request_signature, verify
from ..signatures.cavage import CavageSignature
from .keys import ActorKey, KeyNotFound, KeyStore

if TYPE_CHECKING:
    from ..signatures.rfc9421 import MessageSignature


class NotAuthenticated(Exception):
    """The request's signature is missing, malformed or wrong; the message is one line for the sender."""


async def authenticate(
    keys: KeyStore,
    config: Config,
    method: str,
    raw_path: str,
    headers: Mapping[str, str],
    body: bytes | None,
) -> Account:
    """The actor whose key signed the request, or NotAuthenticated.

    The signature is parsed and checked against the policy first, so a request
    that would fail anyway never makes Spark fetch a key. A verify that fails
    with the cached key is retried once with a refetched key (rotation).
    """
    try:
        sig = _parse(config, method, raw_path, headers, body)
    except SignatureError as exc:
        raise NotAuthenticated(exc.message) from None
    try:
        key = await keys.get(sig.key_id)
    except KeyNotFound as exc:
        raise NotAuthenticated(f"could not find the key {sig.key_id}: {exc}") from None
    if _verifies(sig, key):
        return key.actor
    try:
        fresh = await keys.refetch(sig.key_id)
    except KeyNotFound as exc:
        raise NotAuthenticated(f"Verification failed for {sig.key_id}; refetch failed: {exc}") from None
    if fresh is not None and _verifies(sig, fresh):
        return fresh.actor
    raise NotAuthenticated(f"Verification failed for {key.actor.uri} {sig.key_id}")


def _parse(
    config: Config, method: str, raw_path: str, headers: Mapping[str, str], body: bytes | None
) -> CavageSignature | MessageSignature:
    if "Signature-Input" in headers:
        from ..signatures.rfc9421 import parse_message_signature

        # Behind a TLS proxy the URL the app sees is not the one that was signed: rebuild it.
        target_uri = f"{config.base_url}{raw_path}"
        return parse_message_signature(method, target_uri, headers, body)
    if "Signature" not in headers and not headers.get("Authorization", "").startswith("Signature "):
        raise SignatureError("Request not signed")
    return parse_request_signature(method, raw_path, headers, body)


def _verifies(sig: CavageSignature | MessageSignature, key: ActorKey) -> bool:
    try:
        if isinstance(sig, CavageSignature):
            verify(sig, key.public_key)
        else:
            from ..signatures.rfc9421 import verify_message_signature

            verify_message_signature(sig, key.public_key)
    except SignatureError:
        return False
    return True
