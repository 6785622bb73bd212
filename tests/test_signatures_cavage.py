"""draft-cavage signatures: interop with httpsig, the draft's vectors, and Mastodon's policy."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from email.utils import formatdate
from functools import cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from multidict import CIMultiDict

from spark_fed.keys import generate_private_key_pem, load_private_key, load_public_key, public_pem_for
from spark_fed.signatures import (
    MalformedSignature,
    SignatureError,
    parse_request_signature,
    parse_signature_params,
    read_signature,
    sha256_digest_header,
    sign_headers,
    signature_matches,
    verify,
    verify_request,
)
from spark_fed.signatures.cavage import build_signing_string, sign_bytes

httpsig = pytest.importorskip("httpsig")

KEY_ID = "https://remote.example/users/alice#main-key"
INBOX = "https://spark.example/users/bob/inbox"
BODY = b'{"type":"Follow","actor":"https://remote.example/users/alice"}'
NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MINUTE = 60


# --- helpers ---------------------------------------------------------------------------------


@cache
def _generated_pem(name: str) -> str:
    return generate_private_key_pem()


def private_pem(name: str = "alice") -> str:
    """One RSA-2048 key per name for the whole module: generating them is the slow part."""
    return _generated_pem(name)


@cache
def _loaded(name: str):
    # Loading an RSA private key validates it (~70 ms): load once, as the app must too.
    key = load_private_key(private_pem(name))
    return key, load_public_key(public_pem_for(private_pem(name)))


def private_key(name: str = "alice"):
    return _loaded(name)[0]


def public_key(name: str = "alice"):
    return _loaded(name)[1]


def http_date(at: float) -> str:
    return formatdate(at, usegmt=True)


def signed_post(body: bytes = BODY, now: float = NOW, url: str = INBOX) -> dict[str, str]:
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_headers("POST", url, headers, body, KEY_ID, private_key(), now=now))
    return headers


def cavage_header(
    names: list[str],
    method: str,
    path: str,
    headers: dict[str, str],
    *,
    key=None,
    algorithm: str | None = "rsa-sha256",
    extra: dict[str, str] | None = None,
) -> str:
    """A Signature header over any header list, in any order: how other servers sign."""
    params = dict(extra or {})
    if algorithm is not None:
        params["algorithm"] = algorithm
    lower = {k.lower(): v for k, v in headers.items()}
    string = build_signing_string(tuple(names), method, path, lower, params)
    signature = base64.b64encode(sign_bytes(key or private_key(), string.encode())).decode()
    parts = [f'keyId="{KEY_ID}"']
    parts += [f'{k}="{v}"' for k, v in params.items()]
    parts += [f'headers="{" ".join(names)}"', f'signature="{signature}"']
    return ",".join(parts)


def post_headers(now: float = NOW, body: bytes = BODY) -> dict[str, str]:
    return {
        "Host": "spark.example",
        "Date": http_date(now),
        "Digest": sha256_digest_header(body),
        "Content-Type": "application/activity+json",
    }


# --- round trips -------------------------------------------------------------------------------


def test_post_round_trip():
    headers = signed_post()
    assert set(headers) == {"Content-Type", "Host", "Date", "Digest", "Signature"}
    assert headers["Host"] == "spark.example"
    assert headers["Digest"] == sha256_digest_header(BODY)
    sig = verify_request("POST", "/users/bob/inbox", headers, BODY, public_key(), now=NOW)
    assert sig.key_id == KEY_ID
    assert sig.algorithm == "rsa-sha256"
    assert sig.headers == ("(request-target)", "host", "date", "digest", "content-type")


def test_get_round_trip_signs_accept_and_no_digest():
    accept = "application/activity+json, application/ld+json"
    added = sign_headers(
        "GET",
        "https://spark.example/users/bob?page=2",
        {"Accept": accept},
        None,
        KEY_ID,
        private_key(),
        now=NOW,
    )
    assert "Digest" not in added
    headers = {"Accept": accept, **added}
    sig = verify_request("GET", "/users/bob?page=2", headers, None, public_key(), now=NOW)
    assert sig.headers == ("(request-target)", "host", "date", "accept")


def test_signature_header_shape_is_mastodons():
    params = parse_signature_params(signed_post()["Signature"])
    assert list(params) == ["keyId", "algorithm", "headers", "signature"]
    assert params["algorithm"] == "rsa-sha256"


def test_signing_keeps_a_given_host_and_date_and_drops_a_default_port():
    added = sign_headers("POST", "https://spark.example:443/inbox", {}, BODY, KEY_ID, private_key(), now=NOW)
    assert added["Host"] == "spark.example"
    added = sign_headers("POST", "http://127.0.0.1:8080/inbox", {}, BODY, KEY_ID, private_key(), now=NOW)
    assert added["Host"] == "127.0.0.1:8080"
    given = {"host": "other.example", "date": "Thu, 01 Jan 2026 00:00:00 GMT"}
    added = sign_headers("POST", "https://spark.example/inbox", given, BODY, KEY_ID, private_key())
    assert (added["Host"], added["Date"]) == ("other.example", "Thu, 01 Jan 2026 00:00:00 GMT")
    verify_request("POST", "/inbox", added, BODY, public_key(), now=NOW)


def test_post_without_body_still_carries_a_digest():
    added = sign_headers("POST", INBOX, {}, None, KEY_ID, private_key(), now=NOW)
    assert added["Digest"] == sha256_digest_header(b"")
    verify_request("POST", "/users/bob/inbox", added, b"", public_key(), now=NOW)


def test_headers_are_case_insensitive_and_may_be_a_multidict():
    headers = {k.upper(): v for k, v in signed_post().items()}
    verify_request("POST", "/users/bob/inbox", headers, BODY, public_key(), now=NOW)
    verify_request("POST", "/users/bob/inbox", CIMultiDict(signed_post()), BODY, public_key(), now=NOW)


def test_now_may_be_a_datetime():
    when = datetime.fromtimestamp(NOW, tz=UTC)
    verify_request("POST", "/users/bob/inbox", signed_post(), BODY, public_key(), now=when)


def test_ed25519_round_trip_uses_hs2019():
    key = ed25519.Ed25519PrivateKey.generate()
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_headers("POST", INBOX, headers, BODY, KEY_ID, key, now=NOW))
    assert parse_signature_params(headers["Signature"])["algorithm"] == "hs2019"
    verify_request("POST", "/users/bob/inbox", headers, BODY, key.public_key(), now=NOW)
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_request("POST", "/users/bob/inbox", headers, BODY, public_key(), now=NOW)


# --- interop with httpsig, an independent implementation --------------------------------------


def test_httpsig_signature_verifies_in_mastodons_header_order():
    """Mastodon lists (request-target) last; the signing string follows the received order."""
    names = ["host", "date", "digest", "content-type", "(request-target)"]
    headers = post_headers()
    signer = httpsig.HeaderSigner(
        KEY_ID, private_pem(), algorithm="rsa-sha256", headers=names, sign_header="signature"
    )
    signed = signer.sign(headers, method="POST", path="/users/bob/inbox")
    sig = verify_request("POST", "/users/bob/inbox", signed, BODY, public_key(), now=NOW)
    assert sig.headers == tuple(names)


def test_httpsig_authorization_header_verifies():
    names = ["(request-target)", "host", "date", "digest"]
    signer = httpsig.HeaderSigner(KEY_ID, private_pem(), algorithm="rsa-sha256", headers=names)
    signed = signer.sign(post_headers(), method="POST", path="/users/bob/inbox")
    assert signed["authorization"].startswith("Signature keyId=")
    assert "signature" not in signed
    verify_request("POST", "/users/bob/inbox", signed, BODY, public_key(), now=NOW)


def test_spark_signature_verifies_with_httpsig():
    headers = signed_post()
    verifier = httpsig.HeaderVerifier(
        headers,
        public_pem_for(private_pem()),
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path="/users/bob/inbox",
        sign_header="signature",
    )
    assert verifier.verify()


def test_spark_get_signature_verifies_with_httpsig():
    headers = {"Accept": "application/activity+json"}
    headers.update(
        sign_headers(
            "GET", "https://spark.example/users/bob?page=1", headers, None, KEY_ID, private_key(), now=NOW
        )
    )
    verifier = httpsig.HeaderVerifier(
        headers,
        public_pem_for(private_pem()),
        method="GET",
        path="/users/bob?page=1",
        sign_header="signature",
    )
    assert verifier.verify()


# --- draft-cavage-12 appendix C: the signing-string and RSA layer ------------------------------

DRAFT_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
DRAFT_PATH = "/foo?param=value&pet=dog"
DRAFT_BODY = b'{"hello": "world"}'
DRAFT_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
DRAFT_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
DRAFT_DEFAULT = (
    'keyId="Test",algorithm="rsa-sha256",signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz'
    "6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0h"
    'Z8FD0k/5OxEPXe5WozsbM="'
)
DRAFT_BASIC = (
    'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date", signature="qdx+H7PHHDZgy4'
    "y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8VfEdKFYRqzic+efkb3n"
    'ndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="'
)
DRAFT_ALL = (
    'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest '
    'content-length",signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32N'
    "fpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
    '"'
)


def draft_request(signature: str, header: str = "Signature") -> dict[str, str]:
    return {**DRAFT_HEADERS, header: signature}


@pytest.mark.parametrize(
    ("signature", "signing_string"),
    [
        (DRAFT_DEFAULT, "date: Sun, 05 Jan 2014 21:31:40 GMT"),
        (
            DRAFT_BASIC,
            "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n"
            "date: Sun, 05 Jan 2014 21:31:40 GMT",
        ),
        (
            DRAFT_ALL,
            "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n"
            "date: Sun, 05 Jan 2014 21:31:40 GMT\ncontent-type: application/json\n"
            "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\ncontent-length: 18",
        ),
    ],
    ids=["C.1-default", "C.2-basic", "C.3-all-headers"],
)
def test_draft_appendix_c_vectors(signature, signing_string):
    key = load_public_key(DRAFT_PUBLIC_KEY)
    for header in ("Signature", "Authorization"):
        value = signature if header == "Signature" else f"Signature {signature}"
        sig = read_signature("POST", DRAFT_PATH, draft_request(value, header))
        assert sig.key_id == "Test"
        assert sig.signing_strings[0] == signing_string.encode()
        assert signature_matches(sig, key)
        assert not signature_matches(sig, public_key())


def test_draft_vectors_fail_spark_policy_as_they_should():
    """1024-bit key, a 2014 date and, for C.1/C.2, no Digest: the policy rejects them (docs/decisions.md)."""
    for signature in (DRAFT_DEFAULT, DRAFT_BASIC, DRAFT_ALL):
        with pytest.raises(SignatureError, match="outside acceptable time window"):
            parse_request_signature("POST", DRAFT_PATH, draft_request(signature), DRAFT_BODY)
    with pytest.raises(SignatureError, match=r"Digest header or \(request-target\)"):
        parse_request_signature("POST", DRAFT_PATH, draft_request(DRAFT_DEFAULT), DRAFT_BODY, now=DRAFT_NOW)
    with pytest.raises(SignatureError, match="Digest header to be signed when doing a POST"):
        parse_request_signature("POST", DRAFT_PATH, draft_request(DRAFT_BASIC), DRAFT_BODY, now=DRAFT_NOW)


# --- what the policy refuses -----------------------------------------------------------------


def test_hmac_with_the_public_key_as_secret_never_verifies():
    """The classic downgrade: the attacker knows our public key and calls it an HMAC secret."""
    secret = public_pem_for(private_pem()).encode()
    headers = post_headers()
    names = ("(request-target)", "host", "date", "digest")
    lower = {k.lower(): v for k, v in headers.items()}
    for algorithm in ("hmac-sha256", "hs2019"):
        string = build_signing_string(names, "POST", "/users/bob/inbox", lower, {"algorithm": algorithm})
        mac = base64.b64encode(hmac.new(secret, string.encode(), hashlib.sha256).digest()).decode()
        headers["Signature"] = (
            f'keyId="{KEY_ID}",algorithm="{algorithm}",headers="{" ".join(names)}",signature="{mac}"'
        )
        if algorithm == "hmac-sha256":
            with pytest.raises(SignatureError, match="Unsupported signature algorithm"):
                parse_request_signature("POST", "/users/bob/inbox", headers, BODY, now=NOW)
        sig = read_signature("POST", "/users/bob/inbox", headers)
        assert not signature_matches(sig, public_key())
        with pytest.raises(SignatureError, match="Verification failed"):
            verify(sig, public_key())


def test_rsa_signature_under_hs2019_or_no_algorithm_verifies():
    """The key's type decides the algorithm; the parameter only has to be one we accept."""
    names = ["(request-target)", "host", "date", "digest"]
    for algorithm in ("hs2019", None):
        headers = post_headers()
        headers["Signature"] = cavage_header(names, "POST", "/users/bob/inbox", headers, algorithm=algorithm)
        verify_request("POST", "/users/bob/inbox", headers, BODY, public_key(), now=NOW)


def test_tampered_body_fails_the_digest():
    with pytest.raises(SignatureError, match="Computed SHA-256 digest"):
        verify_request("POST", "/users/bob/inbox", signed_post(), BODY + b" ", public_key(), now=NOW)


def test_tampered_body_with_a_fresh_digest_fails_the_signature():
    headers = signed_post()
    headers["Digest"] = sha256_digest_header(b"{}")
    with pytest.raises(SignatureError, match=f"^Verification failed for {KEY_ID}$"):
        verify_request("POST", "/users/bob/inbox", headers, b"{}", public_key(), now=NOW)


def test_wrong_key_fails():
    sig = parse_request_signature("POST", "/users/bob/inbox", signed_post(), BODY, now=NOW)
    assert not signature_matches(sig, public_key("mallory"))
    with pytest.raises(SignatureError, match="Verification failed"):
        verify(sig, public_key("mallory"))


def test_wrong_path_or_method_fails():
    headers = signed_post()
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_request("POST", "/inbox", headers, BODY, public_key(), now=NOW)
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_request("PUT", "/users/bob/inbox", headers, BODY, public_key(), now=NOW)


@pytest.mark.parametrize("age_minutes", [0, 30, 64])
def test_recent_dates_are_accepted(age_minutes):
    headers = signed_post(now=NOW - age_minutes * MINUTE)
    verify_request("POST", "/users/bob/inbox", headers, BODY, public_key(), now=NOW)


def test_stale_date_is_refused():
    headers = signed_post(now=NOW - 70 * MINUTE)
    with pytest.raises(SignatureError, match=r"^Signed request date outside acceptable time window$"):
        parse_request_signature("POST", "/users/bob/inbox", headers, BODY, now=NOW)


def test_future_date_within_an_hour_is_accepted_beyond_it_refused():
    verify_request(
        "POST", "/users/bob/inbox", signed_post(now=NOW + 59 * MINUTE), BODY, public_key(), now=NOW
    )
    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_request_signature("POST", "/users/bob/inbox", signed_post(now=NOW + 61 * MINUTE), BODY, now=NOW)


@pytest.mark.parametrize(
    "date",
    [
        "2026-01-01T00:00:00Z",
        "Thursday, 01-Jan-26 00:00:00 GMT",
        "Thu Jan  1 00:00:00 2026",
        "Thu, 01 Jan 2026 00:00:00 +0000",
        "Thu, 31 Feb 2026 00:00:00 GMT",
    ],
)
def test_date_must_be_rfc1123(date):
    headers = post_headers()
    headers["Date"] = date
    headers["Signature"] = cavage_header(
        ["(request-target)", "host", "date", "digest"], "POST", "/inbox", headers
    )
    with pytest.raises(SignatureError, match=r"^Invalid Date header"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


def test_post_without_a_signed_digest_is_refused():
    headers = post_headers()
    headers["Signature"] = cavage_header(["(request-target)", "host", "date"], "POST", "/inbox", headers)
    with pytest.raises(SignatureError, match="requires the Digest header to be signed when doing a POST"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)
    del headers["Digest"]
    with pytest.raises(SignatureError, match="requires the Digest header to be signed when doing a POST"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


def test_post_whose_signed_digest_header_is_missing_is_refused():
    headers = signed_post()
    del headers["Digest"]
    with pytest.raises(SignatureError, match="digest is missing"):
        parse_request_signature("POST", "/users/bob/inbox", headers, BODY, now=NOW)


def test_get_without_a_signed_host_is_refused():
    headers = {"Host": "spark.example", "Date": http_date(NOW)}
    headers["Signature"] = cavage_header(["(request-target)", "date"], "GET", "/users/bob", headers)
    with pytest.raises(SignatureError, match="Host header to be signed when doing a GET"):
        parse_request_signature("GET", "/users/bob", headers, None, now=NOW)


def test_signature_without_date_or_created_is_refused():
    headers = post_headers()
    headers["Signature"] = cavage_header(["(request-target)", "host", "digest"], "POST", "/inbox", headers)
    with pytest.raises(SignatureError, match=r"Date header or \(created\)"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


def test_query_string_is_tried_first_then_without_it():
    headers = {"Host": "spark.example", "Date": http_date(NOW)}
    names = ["(request-target)", "host", "date"]
    headers["Signature"] = cavage_header(names, "GET", "/users/bob/outbox?page=true", headers)
    sig = verify_request("GET", "/users/bob/outbox?page=true", headers, None, public_key(), now=NOW)
    assert len(sig.signing_strings) == 2
    # Mastodon before 4.3 signed the path alone.
    headers["Signature"] = cavage_header(names, "GET", "/users/bob/outbox", headers)
    verify_request("GET", "/users/bob/outbox?page=true", headers, None, public_key(), now=NOW)
    # But another query string is another request.
    headers["Signature"] = cavage_header(names, "GET", "/users/bob/outbox?page=false", headers)
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_request("GET", "/users/bob/outbox?page=true", headers, None, public_key(), now=NOW)


def test_hs2019_with_created_and_expires():
    headers = post_headers()
    del headers["Date"]
    names = ["(request-target)", "host", "(created)", "(expires)", "digest"]
    created = {"created": str(int(NOW) - 30), "expires": str(int(NOW) + 300)}
    headers["Signature"] = cavage_header(names, "POST", "/inbox", headers, algorithm="hs2019", extra=created)
    sig = verify_request("POST", "/inbox", headers, BODY, public_key(), now=NOW)
    assert sig.signing_strings[0].decode().splitlines()[2:4] == [
        f"(created): {int(NOW) - 30}",
        f"(expires): {int(NOW) + 300}",
    ]


def test_hs2019_created_beats_the_date_header():
    headers = post_headers(now=NOW - 5 * 3600)
    names = ["(request-target)", "host", "date", "(created)", "digest"]
    headers["Signature"] = cavage_header(
        names, "POST", "/inbox", headers, algorithm="hs2019", extra={"created": str(int(NOW))}
    )
    verify_request("POST", "/inbox", headers, BODY, public_key(), now=NOW)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"created": str(int(NOW) - 2 * 3600)}, "outside acceptable time window"),
        ({"created": str(int(NOW) + 2 * 3600)}, "outside acceptable time window"),
        ({"created": str(int(NOW) - 3 * 3600), "expires": str(int(NOW) - 61 * MINUTE)}, "outside acceptable"),
        # expires is capped at created + 12 h, whatever it says
        ({"created": str(int(NOW) - 14 * 3600), "expires": str(int(NOW) + 86400)}, "outside acceptable"),
        ({"created": "yesterday"}, "created is not a Unix time"),
    ],
)
def test_hs2019_created_and_expires_window(params, reason):
    headers = post_headers()
    del headers["Date"]
    names = ["(request-target)", "host", "(created)", "digest"]
    headers["Signature"] = cavage_header(names, "POST", "/inbox", headers, algorithm="hs2019", extra=params)
    with pytest.raises(SignatureError, match=reason):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


def test_unsigned_created_and_expires_parameters_are_ignored():
    """Only what the signature covers limits its window: the signed Date here, whatever the
    parameters beside it say (Mastodon would read them; anyone replaying could change them)."""
    headers = post_headers()
    names = ["(request-target)", "host", "date", "digest"]
    params = {"created": str(int(NOW) - 5 * 3600), "expires": str(int(NOW) - 2 * 3600)}
    for algorithm in ("rsa-sha256", "hs2019"):
        headers["Signature"] = cavage_header(
            names, "POST", "/inbox", headers, algorithm=algorithm, extra=params
        )
        verify_request("POST", "/inbox", headers, BODY, public_key(), now=NOW)


def test_hs2019_signed_expires_may_extend_the_window():
    headers = post_headers()
    del headers["Date"]
    names = ["(request-target)", "host", "(created)", "(expires)", "digest"]
    params = {"created": str(int(NOW) - 3 * 3600), "expires": str(int(NOW) + 600)}
    headers["Signature"] = cavage_header(names, "POST", "/inbox", headers, algorithm="hs2019", extra=params)
    verify_request("POST", "/inbox", headers, BODY, public_key(), now=NOW)
    # The same expiry outside the signed headers extends nothing.
    names.remove("(expires)")
    headers["Signature"] = cavage_header(names, "POST", "/inbox", headers, algorithm="hs2019", extra=params)
    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


def test_created_pseudo_header_needs_hs2019_and_its_parameter():
    headers = post_headers()
    names = "(request-target) host (created) digest"
    sig = base64.b64encode(b"x" * 256).decode()
    headers["Signature"] = (
        f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="{names}",created="1",signature="{sig}"'
    )
    with pytest.raises(SignatureError, match=r"Invalid pseudo-header \(created\) for rsa-sha256"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)
    headers["Signature"] = f'keyId="{KEY_ID}",algorithm="hs2019",headers="{names}",signature="{sig}"'
    with pytest.raises(SignatureError, match=r"\(created\) used but corresponding argument missing"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)
    headers["Signature"] = (
        f'keyId="{KEY_ID}",algorithm="hs2019",headers="(request-target) host (expires) date",'
        f'signature="{sig}"'
    )
    with pytest.raises(SignatureError, match=r"\(expires\) used but corresponding argument missing"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


def test_hs2019_default_headers_are_created_and_too_weak():
    headers = post_headers()
    headers["Signature"] = f'keyId="{KEY_ID}",created="{int(NOW)}",signature="AAAA"'
    sig = read_signature("POST", "/inbox", headers)
    assert (sig.algorithm, sig.headers) == ("hs2019", ("(created)",))
    with pytest.raises(SignatureError, match=r"Digest header or \(request-target\)"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


def test_lowercase_sha256_digest_is_accepted():
    headers = post_headers()
    headers["Digest"] = headers["Digest"].replace("SHA-256", "sha-256")
    headers["Signature"] = cavage_header(
        ["(request-target)", "host", "date", "digest"], "POST", "/inbox", headers
    )
    verify_request("POST", "/inbox", headers, BODY, public_key(), now=NOW)


def test_unsupported_algorithm_is_refused():
    headers = post_headers()
    headers["Signature"] = cavage_header(
        ["(request-target)", "host", "date", "digest"], "POST", "/inbox", headers, algorithm="rsa-sha512"
    )
    with pytest.raises(SignatureError, match="only rsa-sha256 and hs2019 are supported"):
        parse_request_signature("POST", "/inbox", headers, BODY, now=NOW)


@pytest.mark.parametrize("missing", ["keyId", "signature"])
def test_key_id_and_signature_are_required(missing):
    params = {"keyId": KEY_ID, "algorithm": "rsa-sha256", "headers": "date", "signature": "AAAA"}
    del params[missing]
    headers = {"Date": http_date(NOW), "Signature": ",".join(f'{k}="{v}"' for k, v in params.items())}
    with pytest.raises(SignatureError, match=f"^Incompatible request signature. {missing} are required$"):
        read_signature("GET", "/", headers)


def test_duplicate_parameter_is_malformed():
    value = f'keyId="{KEY_ID}",keyId="https://evil.example/actor#key",headers="date",signature="AAAA"'
    with pytest.raises(MalformedSignature, match="keyId given twice"):
        parse_signature_params(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "Signature",
        'keyId="a" signature="b"',
        'keyId="unterminated',
        'keyId="a",,signature="b"',
        'keyId="a",',
        '=",signature="b"',
        "keyId=a b",
    ],
)
def test_garbage_signature_header_is_malformed(value):
    with pytest.raises(MalformedSignature, match=r"^Error parsing signature parameters"):
        parse_signature_params(value)
    with pytest.raises(MalformedSignature):
        read_signature("POST", "/inbox", {**post_headers(), "Signature": value})


def test_parser_reads_tokens_quoted_strings_whitespace_and_a_stray_prefix():
    value = (
        'Signature keyId = "https://a.example/u#k" ,  algorithm=rsa-sha256,headers="date",signature="AB+/=="'
    )
    assert parse_signature_params(value) == {
        "keyId": "https://a.example/u#k",
        "algorithm": "rsa-sha256",
        "headers": "date",
        "signature": "AB+/==",
    }
    assert parse_signature_params(r'keyId="a\"b\\c"') == {"keyId": 'a"b\\c'}


def test_signature_that_is_not_base64_is_malformed():
    headers = {"Date": http_date(NOW), "Signature": f'keyId="{KEY_ID}",headers="date",signature="A"'}
    with pytest.raises(MalformedSignature, match="not base64"):
        read_signature("GET", "/", headers)


def test_unsigned_request():
    with pytest.raises(SignatureError, match=r"^Request not signed$"):
        read_signature("POST", "/inbox", post_headers())
    with pytest.raises(SignatureError, match=r"^Request not signed$"):
        read_signature("POST", "/inbox", {**post_headers(), "Authorization": "Bearer abc"})


def test_unsupported_key_type_is_an_error_not_a_crash():
    sig = parse_request_signature("POST", "/users/bob/inbox", signed_post(), BODY, now=NOW)
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(SignatureError, match="Unsupported key type"):
        verify(sig, ec_key)


def test_key_loaded_from_der_or_pem_is_the_same_key():
    """The caller caches key objects; any loaded form of the same key verifies."""
    der = public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sig = parse_request_signature("POST", "/users/bob/inbox", signed_post(), BODY, now=NOW)
    verify(sig, serialization.load_der_public_key(der))
