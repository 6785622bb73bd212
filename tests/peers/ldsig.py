"""RsaSignature2017 linked-data signatures, as Mastodon puts on public payloads.

Mastodon signs every public or unlisted ``Create`` it delivers unless it runs in authorized-fetch mode
(``app/services/concerns/payloadable.rb``), so a Spark inbox sees them all the time and must never reject
a payload because of one (``docs/interop.md``). The algorithm is Mastodon's
``app/lib/activitypub/linked_data_signature.rb``: the SHA-256 hex of the URDNA2015 N-Quads of the options
(under the identity/v1 context) and of the document without its signature, concatenated, signed RSA
PKCS#1 v1.5 / SHA-256; ``security/v1`` is then appended to ``@context``.

Context documents are never fetched: ActivityStreams and security/v1 come from pyld's own bundled copies,
identity/v1 from ``contexts/identity-v1.jsonld``, converted term by term from the copy Mastodon preloads
(``config/initializers/json_ld_identity.rb`` in v4.6.5). pyld is imported only when a signature is made.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

IDENTITY_V1 = "https://w3id.org/identity/v1"
SECURITY_V1 = "https://w3id.org/security/v1"
_IDENTITY_FILE = Path(__file__).with_name("contexts") / "identity-v1.jsonld"
_loader: Any = None


def _document_loader() -> Any:
    global _loader
    if _loader is None:
        from pyld.documentloader.frozen import BUNDLED_CONTEXTS, FrozenDocumentLoader

        identity = json.loads(_IDENTITY_FILE.read_text(encoding="utf-8"))
        documents: dict[str, Any] = dict(BUNDLED_CONTEXTS)
        documents[IDENTITY_V1] = identity
        documents["http://w3id.org/identity/v1"] = identity
        _loader = FrozenDocumentLoader(documents)
    return _loader


def _hash(document: dict[str, Any]) -> str:
    from pyld import jsonld

    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": _document_loader(),
    }
    nquads = jsonld.normalize(document, options)
    return hashlib.sha256(nquads.encode("utf-8")).hexdigest()


def _to_be_signed(document: dict[str, Any], signature: dict[str, Any]) -> bytes:
    options = {k: v for k, v in signature.items() if k not in ("type", "id", "signatureValue")}
    options["@context"] = IDENTITY_V1
    unsigned = {k: v for k, v in document.items() if k != "signature"}
    return (_hash(options) + _hash(unsigned)).encode("ascii")


def ld_sign(document: dict[str, Any], private_key: rsa.RSAPrivateKey, key_id: str) -> dict[str, Any]:
    """``LinkedDataSignature#sign!``: the document hash is taken before security/v1 joins ``@context``."""
    options = {
        "type": "RsaSignature2017",
        "creator": key_id,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    value = private_key.sign(_to_be_signed(document, options), padding.PKCS1v15(), hashes.SHA256())
    context = document.get("@context")
    contexts = list(context) if isinstance(context, list) else [context]
    if SECURITY_V1 not in contexts:
        contexts.append(SECURITY_V1)
    signed = dict(document)
    signed["@context"] = contexts[0] if len(contexts) == 1 else contexts
    signed["signature"] = {**options, "signatureValue": base64.b64encode(value).decode("ascii")}
    return signed


def ld_verify(document: dict[str, Any], public_key: rsa.RSAPublicKey) -> bool:
    """``LinkedDataSignature#verify_actor!`` without the key lookup: True if ``signature`` checks out."""
    signature = document.get("signature")
    if not isinstance(signature, dict) or signature.get("type") != "RsaSignature2017":
        return False
    try:
        value = base64.b64decode(signature["signatureValue"])
        public_key.verify(value, _to_be_signed(document, signature), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True
