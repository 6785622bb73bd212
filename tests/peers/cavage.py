"""Draft-cavage HTTP signatures, written for the test peers alone.

This module deliberately shares no code with ``spark_fed``: if Spark's signing or verification had a bug and
the peer reused Spark's code, both sides would agree on the wrong bytes and every test would pass. It follows
Mastodon's own implementation (``app/lib/http_signature_draft.rb`` for signing, ``app/lib/signed_request.rb``
and ``app/lib/signature_parser.rb`` for checking), including its error messages, so that a test failure reads
like the ``{"error": ...}`` a real Mastodon would answer.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

REQUEST_TARGET = "(request-target)"
EXPIRATION_WINDOW_LIMIT = 12 * 3600  # SignedRequest::EXPIRATION_WINDOW_LIMIT
CLOCK_SKEW_MARGIN = 3600  # SignedRequest::CLOCK_SKEW_MARGIN
DEFAULT_EXPIRY = 5 * 60  # created + 5.minutes when there is no `expires`


class SignatureError(Exception):
    """A request Mastodon would refuse: ``str(exc)`` is its reason, ``status`` the code it would answer
    (401, or 503 when the signer's key could not be fetched)."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


def http_date(now: float | None = None) -> str:
    """RFC 1123 date as Ruby's ``Time#httpdate`` writes it (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return formatdate(time.time() if now is None else now, usegmt=True)


def digest_header(body: bytes) -> str:
    """``Digest`` value as Mastodon sends it: uppercase algorithm, standard base64 of SHA-256."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def sign(
    private_key: rsa.RSAPrivateKey,
    key_id: str,
    method: str,
    path_and_query: str,
    covered: Sequence[tuple[str, str]],
) -> str:
    """Build a ``Signature`` header value exactly as ``HttpSignatureDraft#sign`` does.

    ``covered`` is the ordered list of (header name, value) pairs to sign; ``(request-target)`` is appended
    *last*, which is Mastodon's (non-canonical) order, so a verifier that assumes another order fails here.
    """
    pairs = [*covered, (REQUEST_TARGET, f"{method.lower()} {path_and_query}")]
    signing_string = "\n".join(f"{name.lower()}: {value}" for name, value in pairs)
    signature = private_key.sign(signing_string.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    names = " ".join(name.lower() for name, _ in pairs)
    return (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{names}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )


_TOKEN = r"[0-9a-zA-Z!#$%&'*+.^_`|~-]+"
_QUOTED = r'"(?:[^\\"]|\\.)*"'
_PARAM = re.compile(rf"(?P<key>{_TOKEN})\s*=\s*(?:(?P<value>{_TOKEN})|(?P<quoted>{_QUOTED}))")
_SEPARATOR = re.compile(r"\s*,\s*")
_SPACES = re.compile(r"\s*")


def parse_signature(raw: str) -> dict[str, str]:
    """Parse a ``Signature`` header with ``SignatureParser``'s rules (tolerant ``Signature `` prefix,
    tokens or quoted strings, duplicate keys refused)."""
    raw = raw.removeprefix("Signature ")
    params: dict[str, str] = {}
    pos = 0
    while match := _PARAM.match(raw, pos):
        key = match["key"]
        if key in params:
            raise SignatureError("Error parsing signature with duplicate keys")
        params[key] = match["value"] if match["value"] is not None else match["quoted"][1:-1]
        pos = _SPACES.match(raw, match.end()).end()  # type: ignore[union-attr]
        if pos == len(raw):
            return params
        separator = _SEPARATOR.match(raw, pos)
        if separator is None or separator.end() == pos:
            break
        pos = separator.end()
    raise SignatureError("Error parsing signature parameters")


_HTTPDATE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


def _parse_http_date(value: str) -> float:
    """``Time.httpdate``: only the RFC 1123 form is accepted (the obsolete forms are too rare to matter)."""
    if not _HTTPDATE.match(value):
        raise SignatureError(f"Invalid Date header: not RFC 2616 compliant date: {value!r}")
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError) as exc:
        raise SignatureError(f"Invalid Date header: {exc}") from exc


def _header_name(name: str) -> str:
    """Rails reads ``request.headers['Content-Type']``: the canonical capitalisation of a signed name."""
    return "-".join(part.capitalize() for part in name.split("-"))


@dataclass
class CavageRequest:
    """One received request, checked the way ``SignedRequest::HttpSignature`` checks it.

    ``header`` returns a received header's value ("" when absent, as Ruby interpolates ``nil``), joining
    repeated headers with ", " as Rack does; it is a callable so the class needs no web framework.
    """

    method: str
    raw_path: str  # path and query exactly as received (Rails' original_fullpath)
    header: Callable[[str], str | None]
    body: bytes = b""
    params: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        raw = self.header("Signature")
        if not raw:
            raise SignatureError("Request not signed")
        if self.header("Signature-Input"):
            # Mastodon would take the RFC 9421 path; this peer speaks only the draft (as ≤ 4.6 senders do).
            raise SignatureError("RFC 9421 signatures are not supported by this test peer")
        self.params = parse_signature(raw)

    @property
    def key_id(self) -> str:
        return self.params.get("keyId", "")

    @property
    def algorithm(self) -> str:
        return self.params.get("algorithm", "hs2019")

    @property
    def signed_headers(self) -> list[str]:
        default = "(created)" if self.algorithm == "hs2019" else "date"
        return self.params.get("headers", default).lower().split()

    def check(self, now: float | None = None) -> None:
        """Everything ``SignedRequest#verified?`` checks before the RSA step, in Mastodon's order."""
        missing = [p for p in ("keyId", "signature") if not self.params.get(p)]
        if missing:
            raise SignatureError(f"Incompatible request signature. {' and '.join(missing)} are required")
        if self.algorithm not in ("rsa-sha256", "hs2019"):
            raise SignatureError("Unsupported signature algorithm (only rsa-sha256 and hs2019 are supported)")
        if not self._matches_time_window(time.time() if now is None else now):
            raise SignatureError("Signed request date outside acceptable time window")
        self._check_strength()
        self._check_digest()

    def verify(self, public_key: rsa.RSAPublicKey) -> bool:
        """RSA PKCS#1 v1.5 / SHA-256 whatever ``algorithm`` says; retried without the query string, as
        Mastodon does for senders older than 4.3."""
        try:
            signature = base64.b64decode(self.params["signature"])
        except (ValueError, KeyError):
            return False
        for with_query in (True, False):
            try:
                public_key.verify(
                    signature,
                    self.signing_string(with_query).encode("utf-8"),
                    padding.PKCS1v15(),
                    hashes.SHA256(),
                )
            except InvalidSignature:
                continue
            return True
        return False

    def signing_string(self, include_query: bool = True) -> str:
        """The string Mastodon rebuilds: the received ``headers`` list, in order, as ``name: value`` lines."""
        lines = []
        for name in self.signed_headers:
            if name == REQUEST_TARGET:
                target = self.raw_path if include_query else self.raw_path.split("?", 1)[0]
                lines.append(f"{REQUEST_TARGET}: {self.method.lower()} {target}")
            elif name in ("(created)", "(expires)"):
                if self.algorithm != "hs2019":
                    raise SignatureError(f"Invalid pseudo-header {name} for rsa-sha256")
                value = self.params.get(name[1:-1])
                if not value:
                    raise SignatureError(f"Pseudo-header {name} used but corresponding argument missing")
                lines.append(f"{name}: {value}")
            else:
                lines.append(f"{name}: {self.header(_header_name(name)) or ''}")
        return "\n".join(lines)

    def _created(self) -> float | None:
        if self.algorithm == "hs2019" and self.params.get("created"):
            return float(int(self.params["created"]))
        date = self.header("Date")
        return _parse_http_date(date) if date else None

    def _matches_time_window(self, now: float) -> bool:
        created = self._created()
        expires = float(int(self.params["expires"])) if self.params.get("expires") else None
        if created is not None:
            expires = min(
                expires if expires is not None else created + DEFAULT_EXPIRY,
                created + EXPIRATION_WINDOW_LIMIT,
            )
            if created > now + CLOCK_SKEW_MARGIN:
                return False
        return not (expires is not None and now > expires + CLOCK_SKEW_MARGIN)

    def _check_strength(self) -> None:
        signed = self.signed_headers
        if "date" not in signed and "(created)" not in signed:
            raise SignatureError("Mastodon requires the Date header or (created) pseudo-header to be signed")
        if REQUEST_TARGET not in signed and "digest" not in signed:
            raise SignatureError(
                "Mastodon requires the Digest header or (request-target) pseudo-header to be signed"
            )
        if self.method.upper() == "GET" and "host" not in signed:
            raise SignatureError("Mastodon requires the Host header to be signed when doing a GET request")
        if self.method.upper() == "POST" and "digest" not in signed:
            raise SignatureError("Mastodon requires the Digest header to be signed when doing a POST request")

    def _check_digest(self) -> None:
        if "digest" not in self.signed_headers:
            return
        raw = self.header("Digest")
        if raw is None:
            raise SignatureError("Digest header missing")
        digests = [item.split("=", 1) for item in raw.split(",")]
        offered = {pair[0].strip().lower(): (pair[1] if len(pair) > 1 else "") for pair in digests}
        if "sha-256" not in offered:
            raise SignatureError(
                f"Mastodon only supports SHA-256 in Digest header. Offered algorithms: {', '.join(offered)}"
            )
        given = offered["sha-256"]
        computed = base64.b64encode(hashlib.sha256(self.body).digest()).decode("ascii")
        if given == computed:
            return
        try:
            size = len(base64.b64decode(given.strip(), validate=True))
        except ValueError as exc:
            raise SignatureError(
                "Invalid Digest value. The provided Digest value is not a valid base64 "
                f"string. Given digest: {given}"
            ) from exc
        if size != 32:
            raise SignatureError(
                "Invalid Digest value. The provided Digest value is not a SHA-256 digest. "
                f"Given digest: {given}"
            )
        raise SignatureError(f"Invalid Digest value. Computed SHA-256 digest: {computed}; given: {given}")
