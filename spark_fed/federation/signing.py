"""Signed requests to other servers: every federation GET and POST goes through here.

GoToSocial, bovine and authorized-fetch Mastodon refuse unsigned GETs, so
fetches are signed too, by the instance actor unless a user is involved.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from ..http.client import HttpClient, Response, wire_url
from ..keys import load_private_key
from ..models import Account
from ..signatures import sign_headers
from .documents import AS2_ACCEPT

if TYPE_CHECKING:  # cryptography is imported when a key is first loaded (spark_fed.keys)
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

ACTIVITY_CONTENT_TYPE = "application/activity+json"
_KEY_CACHE_SIZE = 256


class SignedClient:
    def __init__(self, http: HttpClient) -> None:
        self.http = http
        self._keys: OrderedDict[str, PrivateKeyTypes] = OrderedDict()

    def _private_key(self, signer: Account) -> PrivateKeyTypes:
        """Parsing a PEM costs more than signing: keep the few keys in use, bounded."""
        key = self._keys.get(signer.public_key_id)
        if key is None:
            if signer.private_key_pem is None:
                raise ValueError(f"{signer.uri} is not a local account and cannot sign")
            key = load_private_key(signer.private_key_pem)
            self._keys[signer.public_key_id] = key
            if len(self._keys) > _KEY_CACHE_SIZE:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(signer.public_key_id)
        return key

    def _signed(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, signer: Account
    ) -> dict:
        key = self._private_key(signer)
        return {**headers, **sign_headers(method, url, headers, body, signer.public_key_id, key)}

    async def get(self, url: str, signer: Account, accept: str = AS2_ACCEPT) -> Response:
        # Signed per hop: a redirect's target must see its own Host and path signed.
        def headers_for(hop: str) -> dict[str, str]:
            return self._signed("GET", hop, {"Accept": accept}, None, signer)

        return await self.http.get(url, headers=headers_for)

    async def post(self, url: str, body: bytes, signer: Account) -> Response:
        # Sign the URL as it will go on the wire (yarl normalises paths and hosts).
        wire = wire_url(url)
        headers = self._signed("POST", wire, {"Content-Type": ACTIVITY_CONTENT_TYPE}, body, signer)
        return await self.http.post(url, body, headers=headers)
