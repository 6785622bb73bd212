"""RFC 9421 message signatures: the RFC's vectors, Mastodon's shape, and Mastodon's policy."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from functools import cache

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from http_message_signatures import HTTPMessageSigner
from http_message_signatures.algorithms import ED25519
from multidict import CIMultiDict

from spark_fed.keys import generate_private_key_pem, load_private_key, load_public_key, public_pem_for
from spark_fed.signatures import (
    MalformedContentDigest,
    MalformedSignature,
    SignatureError,
    content_digest_header,
    parse_message_signature,
    read_message_signature,
    sign_message,
    verify_message_request,
    verify_message_signature,
)
from spark_fed.signatures.rfc9421 import _OneKey, _Request

KEY_ID = "https://remote.domain/users/bob#main-key"
CREATED = 1703066400  # the created= of Mastodon's spec/requests/signature_verification_spec.rb
INBOX = "https://spark.example/users/alice/inbox"
BODY = b'{"type":"Like","actor":"https://remote.domain/users/bob"}'
MINUTE = 60


@cache
def _rsa(name: str):
    # Loading an RSA private key validates it (~70 ms): load once, as the app must too.
    pem = generate_private_key_pem()
    return load_private_key(pem), load_public_key(public_pem_for(pem))


def private_key(name: str = "bob"):
    return _rsa(name)[0]


def public_key(name: str = "bob"):
    return _rsa(name)[1]


def rsa_sign(base: str, key=None) -> str:
    signature = (key or private_key()).sign(base.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def mastodon_get(
    target_uri: str = "https://spark.example/users/alice", created: int = CREATED
) -> dict[str, str]:
    """Signed by hand the way Mastodon's spec does it, independently of the library's signer."""
    params = f'("@method" "@target-uri");created={created};keyid="{KEY_ID}"'
    base = f'"@method": GET\n"@target-uri": {target_uri}\n"@signature-params": {params}'
    return {
        "Host": "spark.example",
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{rsa_sign(base)}:",
    }


def signed_post(body: bytes = BODY, now: float = CREATED, url: str = INBOX, key=None) -> dict[str, str]:
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_message("POST", url, headers, body, KEY_ID, key or private_key(), now=now))
    return headers


# --- RFC 9421 appendix B and section 4.3: the library's and the RFC's own vectors --------------

ED25519_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
ED25519_PRIVATE = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
# test-key-rsa (RFC 9421 B.1.1), the key of section 4.3's rsa-v1_5-sha256 proxy signature.
RSA_TEST_PRIVATE = b"""-----BEGIN RSA PRIVATE KEY-----
MIIEqAIBAAKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsP
BRrwWEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsd
JKFqMGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75
jfZgkne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKI
lE0PuKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZ
SFlQPSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQABAoIBAG/JZuSWdoVHbi56
vjgCgkjg3lkO1KrO3nrdm6nrgA9P9qaPjxuKoWaKO1cBQlE1pSWp/cKncYgD5WxE
CpAnRUXG2pG4zdkzCYzAh1i+c34L6oZoHsirK6oNcEnHveydfzJL5934egm6p8DW
+m1RQ70yUt4uRc0YSor+q1LGJvGQHReF0WmJBZHrhz5e63Pq7lE0gIwuBqL8SMaA
yRXtK+JGxZpImTq+NHvEWWCu09SCq0r838ceQI55SvzmTkwqtC+8AT2zFviMZkKR
Qo6SPsrqItxZWRty2izawTF0Bf5S2VAx7O+6t3wBsQ1sLptoSgX3QblELY5asI0J
YFz7LJECgYkAsqeUJmqXE3LP8tYoIjMIAKiTm9o6psPlc8CrLI9CH0UbuaA2JCOM
cCNq8SyYbTqgnWlB9ZfcAm/cFpA8tYci9m5vYK8HNxQr+8FS3Qo8N9RJ8d0U5Csw
DzMYfRghAfUGwmlWj5hp1pQzAuhwbOXFtxKHVsMPhz1IBtF9Y8jvgqgYHLbmyiu1
mwJ5AL0pYF0G7x81prlARURwHo0Yf52kEw1dxpx+JXER7hQRWQki5/NsUEtv+8RT
qn2m6qte5DXLyn83b1qRscSdnCCwKtKWUug5q2ZbwVOCJCtmRwmnP131lWRYfj67
B/xJ1ZA6X3GEf4sNReNAtaucPEelgR2nsN0gKQKBiGoqHWbK1qYvBxX2X3kbPDkv
9C+celgZd2PW7aGYLCHq7nPbmfDV0yHcWjOhXZ8jRMjmANVR/eLQ2EfsRLdW69bn
f3ZD7JS1fwGnO3exGmHO3HZG+6AvberKYVYNHahNFEw5TsAcQWDLRpkGybBcxqZo
81YCqlqidwfeO5YtlO7etx1xLyqa2NsCeG9A86UjG+aeNnXEIDk1PDK+EuiThIUa
/2IxKzJKWl1BKr2d4xAfR0ZnEYuRrbeDQYgTImOlfW6/GuYIxKYgEKCFHFqJATAG
IxHrq1PDOiSwXd2GmVVYyEmhZnbcp8CxaEMQoevxAta0ssMK3w6UsDtvUvYvF22m
qQKBiD5GwESzsFPy3Ga0MvZpn3D6EJQLgsnrtUPZx+z2Ep2x0xc5orneB5fGyF1P
WtP+fG5Q6Dpdz3LRfm+KwBCWFKQjg7uTxcjerhBWEYPmEMKYwTJF5PBG9/ddvHLQ
EQeNC8fHGg4UXU8mhHnSBt3EA10qQJfRDs15M38eG2cYwB1PZpDHScDnDA0=
-----END RSA PRIVATE KEY-----
"""
RFC_DIGEST = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
)
RFC_TARGET = "https://example.com/foo?param=Value&Pet=dog"
B26_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": RFC_DIGEST,
    "Content-Length": "18",
    "Signature-Input": (
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");'
        'created=1618884473;keyid="test-key-ed25519"'
    ),
    "Signature": (
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    ),
}
PROXIED_TARGET = "https://origin.host.internal.example/foo?param=Value&Pet=dog"
PROXIED_HEADERS = {
    "Host": "origin.host.internal.example",
    "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
    "Content-Type": "application/json",
    "Content-Length": "18",
    "Forwarded": "for=192.0.2.123;host=example.com;proto=https",
    "Content-Digest": RFC_DIGEST,
    "Signature-Input": (
        'sig1=("@method" "@authority" "@path" "content-digest" "content-type" "content-length")'
        ';created=1618884475;keyid="test-key-ecc-p256", '
        'proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" '
        '"forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540'
    ),
    "Signature": (
        "sig1=:X5spyd6CFnAG5QnDyHfqoSNICd+BUP4LYMz2Q0JXlb//4Ijpzp+kve2w4NIyqeAuM7jTDX+sNalzA8ESSaHD3A==:, "
        "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcn"
        "L9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFn"
        "Im9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbL"
        "Vdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:"
    ),
}


def test_rfc_b26_ed25519_vector_verifies():
    sig = read_message_signature("POST", RFC_TARGET, B26_HEADERS)
    assert (sig.label, sig.key_id, sig.created) == ("sig-b26", "test-key-ed25519", 1618884473)
    verify_message_signature(sig, serialization.load_pem_public_key(ED25519_PUBLIC))


def test_rfc_b26_signer_reproduces_the_published_signature():
    """Ed25519 is deterministic, so signing the same request must give the RFC's bytes."""
    headers = {k: v for k, v in B26_HEADERS.items() if not k.startswith("Signature")}
    request = _Request("POST", RFC_TARGET, headers)
    key = serialization.load_pem_private_key(ED25519_PRIVATE, None)
    signer = HTTPMessageSigner(signature_algorithm=ED25519, key_resolver=_OneKey(None, key))
    signer.sign(
        request,
        key_id="test-key-ed25519",
        created=datetime.fromtimestamp(1618884473, tz=UTC),
        label="sig-b26",
        include_alg=False,
        covered_component_ids=("date", "@method", "@path", "@authority", "content-type", "content-length"),
        use_existing_digest=True,
    )
    assert headers["Signature-Input"] == B26_HEADERS["Signature-Input"]
    assert headers["Signature"] == B26_HEADERS["Signature"]


def test_rfc_b26_vector_tampered_or_under_another_key_fails():
    ed_key = serialization.load_pem_public_key(ED25519_PUBLIC)
    tampered = {**B26_HEADERS, "Content-Length": "19"}
    with pytest.raises(SignatureError, match="Verification failed for test-key-ed25519"):
        verify_message_signature(read_message_signature("POST", RFC_TARGET, tampered), ed_key)
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_signature(read_message_signature("GET", RFC_TARGET, B26_HEADERS), ed_key)
    other = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_signature(read_message_signature("POST", RFC_TARGET, B26_HEADERS), other)
    # An RSA key means rsa-v1_5-sha256, whatever the signature was made with.
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_signature(read_message_signature("POST", RFC_TARGET, B26_HEADERS), public_key())


def test_rfc_b26_vector_fails_spark_policy_as_it_should():
    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_message_signature("POST", RFC_TARGET, B26_HEADERS, b'{"hello": "world"}')
    with pytest.raises(SignatureError, match="@method and @target-uri"):
        parse_message_signature("POST", RFC_TARGET, B26_HEADERS, b'{"hello": "world"}', now=1618884473)


def test_rfc_section_4_3_rsa_v1_5_proxy_signature_verifies():
    rsa_key = serialization.load_pem_private_key(RSA_TEST_PRIVATE, None).public_key()
    sig = read_message_signature("POST", PROXIED_TARGET, PROXIED_HEADERS, label="proxy_sig")
    assert (sig.key_id, sig.alg, sig.expires, sig.label_count) == (
        "test-key-rsa",
        "rsa-v1_5-sha256",
        1618884540,
        2,
    )
    verify_message_signature(sig, rsa_key)
    # Without a label Spark takes the first signature, the client's ECDSA one: not an RSA signature.
    first = read_message_signature("POST", PROXIED_TARGET, PROXIED_HEADERS)
    assert first.label == "sig1"
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_signature(first, rsa_key)


# --- Mastodon's shape (docs/interop.md) ------------------------------------------------


def test_mastodon_example_get_verifies():
    headers = mastodon_get()
    sig = verify_message_request(
        "GET", "https://spark.example/users/alice", headers, None, public_key(), now=CREATED + 10
    )
    assert sig.key_id == KEY_ID
    assert sig.components == ("@method", "@target-uri")
    assert sig.alg is None


def test_mastodon_shaped_post_round_trip():
    headers = signed_post()
    assert headers["Content-Digest"] == content_digest_header(BODY)
    assert headers["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "content-digest");created={CREATED};keyid="{KEY_ID}"'
    )
    sig = verify_message_request("POST", INBOX, headers, BODY, public_key(), now=CREATED)
    assert sig.components == ("@method", "@target-uri", "content-digest")


def test_post_without_body_still_signs_a_content_digest():
    headers = sign_message("POST", INBOX, {}, None, KEY_ID, private_key(), now=CREATED)
    assert headers["Content-Digest"] == content_digest_header(b"")
    verify_message_request("POST", INBOX, headers, b"", public_key(), now=CREATED)


def test_repeated_header_lines_are_combined_as_sent():
    """aiohttp's multidict repeats a repeated field; the signature base joins the lines with ", "."""
    params = f'("@method" "@target-uri" "accept");created={CREATED};keyid="{KEY_ID}"'
    base = (
        '"@method": GET\n"@target-uri": https://spark.example/users/alice\n'
        f'"accept": application/activity+json, application/ld+json\n"@signature-params": {params}'
    )
    headers = CIMultiDict(
        [
            ("Accept", "application/activity+json"),
            ("accept", "application/ld+json"),
            ("Signature-Input", f"sig1={params}"),
            ("Signature", f"sig1=:{rsa_sign(base)}:"),
        ]
    )
    target = "https://spark.example/users/alice"
    verify_message_request("GET", target, headers, None, public_key(), now=CREATED)


def test_ed25519_round_trip():
    key = ed25519.Ed25519PrivateKey.generate()
    headers = signed_post(key=key)
    verify_message_request("POST", INBOX, headers, BODY, key.public_key(), now=CREATED)
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_request("POST", INBOX, headers, BODY, public_key(), now=CREATED)


def test_wrong_key_fails():
    sig = parse_message_signature("POST", INBOX, signed_post(), BODY, now=CREATED)
    with pytest.raises(SignatureError, match=f"^Verification failed for {KEY_ID}"):
        verify_message_signature(sig, public_key("mallory"))


def test_target_uri_is_the_configured_one_not_the_proxied_one():
    """Behind a TLS proxy the app sees http://127.0.0.1:8000/…; the sender signed https://spark.example/…"""
    headers = signed_post()
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_request(
            "POST", "http://127.0.0.1:8000/users/alice/inbox", headers, BODY, public_key(), now=CREATED
        )
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_request("POST", INBOX + "?x=1", headers, BODY, public_key(), now=CREATED)


def test_alg_never_chooses_the_algorithm():
    """An HMAC over the base keyed with our public key, labelled hmac-sha256, is still checked as RSA."""
    secret = public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    params = f'("@method" "@target-uri");created={CREATED};keyid="{KEY_ID}";alg="hmac-sha256"'
    base = f'"@method": GET\n"@target-uri": https://spark.example/users/alice\n"@signature-params": {params}'
    mac = base64.b64encode(hmac.new(secret, base.encode(), hashlib.sha256).digest()).decode()
    headers = {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{mac}:"}
    sig = parse_message_signature("GET", "https://spark.example/users/alice", headers, None, now=CREATED)
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_signature(sig, public_key())
    # and an RSA signature that claims to be ed25519 does not verify under an RSA key either
    params = f'("@method" "@target-uri");created={CREATED};keyid="{KEY_ID}";alg="ed25519"'
    base = f'"@method": GET\n"@target-uri": https://spark.example/users/alice\n"@signature-params": {params}'
    headers = {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{rsa_sign(base)}:"}
    sig = parse_message_signature("GET", "https://spark.example/users/alice", headers, None, now=CREATED)
    with pytest.raises(SignatureError, match="Unexpected algorithm"):
        verify_message_signature(sig, public_key())


def test_unsupported_key_type():
    sig = parse_message_signature("POST", INBOX, signed_post(), BODY, now=CREATED)
    with pytest.raises(SignatureError, match="Unsupported key type"):
        verify_message_signature(sig, ec.generate_private_key(ec.SECP256R1()).public_key())


# --- policy ------------------------------------------------------------------------------------


def test_missing_target_uri_is_refused():
    params = f'("@method" "@authority" "@path");created={CREATED};keyid="{KEY_ID}"'
    base = (
        f'"@method": GET\n"@authority": spark.example\n"@path": /users/alice\n"@signature-params": {params}'
    )
    headers = {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{rsa_sign(base)}:"}
    target = "https://spark.example/users/alice"
    verify_message_signature(
        read_message_signature("GET", target, headers), public_key()
    )  # a valid signature
    with pytest.raises(SignatureError, match="requires the @method and @target-uri derived components"):
        parse_message_signature("GET", target, headers, None, now=CREATED)


def test_post_without_signed_content_digest_is_refused():
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_message("GET", INBOX, headers, None, KEY_ID, private_key(), now=CREATED))
    with pytest.raises(SignatureError, match="Content-Digest header to be signed"):
        parse_message_signature("POST", INBOX, headers, BODY, now=CREATED)
    with pytest.raises(SignatureError, match="Content-Digest header to be signed"):
        parse_message_signature("POST", INBOX, headers, b"", now=CREATED)


def test_content_digest_mismatch_is_refused():
    with pytest.raises(SignatureError, match="Computed SHA-256 digest"):
        parse_message_signature("POST", INBOX, signed_post(), BODY + b" ", now=CREATED)


def test_content_digest_replaced_to_match_a_new_body_fails_the_signature():
    headers = signed_post()
    headers["Content-Digest"] = content_digest_header(b"{}")
    sig = parse_message_signature("POST", INBOX, headers, b"{}", now=CREATED)
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_message_signature(sig, public_key())


def test_malformed_content_digest_is_a_400():
    headers = signed_post()
    headers["Content-Digest"] = "SHA-256=abc="
    with pytest.raises(MalformedContentDigest) as caught:
        parse_message_signature("POST", INBOX, headers, BODY, now=CREATED)
    assert caught.value.status == 400


def test_content_digest_missing_though_signed():
    headers = signed_post()
    del headers["Content-Digest"]
    with pytest.raises(SignatureError, match="Content-Digest header missing"):
        parse_message_signature("POST", INBOX, headers, BODY, now=CREATED)


@pytest.mark.parametrize("offset_minutes", [-64, -30, 0, 30, 59])
def test_time_window_accepts(offset_minutes):
    now = CREATED - offset_minutes * MINUTE
    verify_message_request(
        "GET", "https://spark.example/users/alice", mastodon_get(), None, public_key(), now=now
    )


@pytest.mark.parametrize("offset_minutes", [-70, -24 * 60, 61, 24 * 60])
def test_time_window_refuses(offset_minutes):
    now = CREATED - offset_minutes * MINUTE
    with pytest.raises(SignatureError, match=r"^Signed request date outside acceptable time window$"):
        parse_message_signature("GET", "https://spark.example/users/alice", mastodon_get(), None, now=now)


def signed_with_expires(created: int, expires: int) -> dict[str, str]:
    params = f'("@method" "@target-uri");created={created};expires={expires};keyid="{KEY_ID}"'
    base = f'"@method": GET\n"@target-uri": https://spark.example/users/alice\n"@signature-params": {params}'
    return {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{rsa_sign(base)}:"}


def test_expires_extends_the_window_up_to_12_hours():
    target = "https://spark.example/users/alice"
    now = CREATED + 3 * 3600
    headers = signed_with_expires(CREATED, CREATED + 4 * 3600)
    verify_message_request("GET", target, headers, None, public_key(), now=now)
    headers = signed_with_expires(CREATED, CREATED + 86400)  # capped at created + 12 h
    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_message_signature("GET", target, headers, None, now=CREATED + 14 * 3600)
    headers = signed_with_expires(CREATED, CREATED + 60)
    with pytest.raises(SignatureError, match="outside acceptable time window"):
        parse_message_signature("GET", target, headers, None, now=CREATED + 62 * MINUTE)


def test_created_is_required():
    params = f'("@method" "@target-uri");keyid="{KEY_ID}"'
    base = f'"@method": GET\n"@target-uri": https://spark.example/users/alice\n"@signature-params": {params}'
    headers = {"Signature-Input": f"sig1={params}", "Signature": f"sig1=:{rsa_sign(base)}:"}
    with pytest.raises(SignatureError, match=r"requires the \(created\) parameter"):
        parse_message_signature("GET", "https://spark.example/users/alice", headers, None, now=CREATED)


def test_keyid_is_required():
    headers = {
        "Signature-Input": f'sig1=("@method" "@target-uri");created={CREATED}',
        "Signature": "sig1=:AAAA:",
    }
    with pytest.raises(SignatureError, match="keyid and created are required"):
        read_message_signature("GET", "https://spark.example/", headers)


@pytest.mark.parametrize(
    ("signature_input", "signature"),
    [
        ("sig1=garbage(", "sig1=:AAAA:"),
        (f'sig1=("@method");created={CREATED};keyid="k"', "sig1=AAAA"),
        (f'sig1=("@method");created={CREATED};keyid="k"', "other=:AAAA:"),
        (f'sig1="@method";created={CREATED};keyid="k"', "sig1=:AAAA:"),
        (f'sig1=("@method");created="{CREATED}";keyid="k"', "sig1=:AAAA:"),
        (f'sig1=("@method");created={CREATED};keyid="k", sig1=("@method")', "sig1=:AAAA:"),
        ("", "sig1=:AAAA:"),
    ],
)
def test_malformed_signature_headers(signature_input, signature):
    with pytest.raises(MalformedSignature):
        read_message_signature(
            "GET", "https://spark.example/", {"Signature-Input": signature_input, "Signature": signature}
        )


def test_unsigned_request():
    with pytest.raises(SignatureError, match=r"^Request not signed$"):
        read_message_signature("GET", "https://spark.example/", {"Signature-Input": 'sig1=();keyid="k"'})
