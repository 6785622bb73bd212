"""Actor key pairs.

Each local actor owns an RSA-2048 key: it is what Mastodon and every other
draft-cavage peer can verify, so it is the one key type Spark issues for now.

`cryptography` (~8 MiB resident) is imported by the functions below, where it is used: a
server loads it with its first signed request, not at start-up (docs/decisions.md, Footprint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

RSA_BITS = 2048


def generate_private_key_pem() -> str:
    """A new RSA-2048 private key as unencrypted PKCS#8 PEM, ready to store."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_pem_for(private_pem: str) -> str:
    """The SubjectPublicKeyInfo PEM that actor documents publish as publicKeyPem."""
    from cryptography.hazmat.primitives import serialization

    key = load_private_key(private_pem)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def load_private_key(pem: str) -> PrivateKeyTypes:
    """Load a key Spark generated and stored itself.

    Full RSA validation costs ~70 ms per load, on keys that never came from outside.
    """
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
    )


def load_public_key(pem: str) -> PublicKeyTypes:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_public_key(pem.encode("ascii"))
