"""The body digests that bind a signature to the bytes actually sent."""

import base64
import hashlib

import pytest
from http_message_signatures import ContentDigest

from spark_fed.signatures import (
    MalformedContentDigest,
    SignatureError,
    check_content_digest,
    check_digest,
    content_digest_header,
    sha256_digest_header,
)

# The body of draft-cavage's appendix C request and its published Digest.
BODY = b'{"hello": "world"}'
BODY_SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="


def test_digest_header_is_uppercase_sha256_in_standard_base64():
    assert sha256_digest_header(BODY) == f"SHA-256={BODY_SHA256}"


def test_digest_of_an_empty_body():
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert sha256_digest_header(b"") == f"SHA-256={empty}"
    check_digest(f"SHA-256={empty}", b"")


@pytest.mark.parametrize(
    "header",
    [
        f"SHA-256={BODY_SHA256}",
        f"sha-256={BODY_SHA256}",
        f"Sha-256={BODY_SHA256}",
        f"SHA-512=AAAA,SHA-256={BODY_SHA256}",
        f"md5=AAAA, sha-256={BODY_SHA256}",
    ],
)
def test_digest_accepts_sha256_in_any_case_and_among_others(header):
    check_digest(header, BODY)


def test_digest_missing():
    with pytest.raises(SignatureError, match=r"^Digest header missing$"):
        check_digest(None, BODY)


def test_digest_without_sha256_names_what_was_offered():
    with pytest.raises(SignatureError, match=r"only supports SHA-256.*Offered algorithms: sha-512, md5"):
        check_digest("SHA-512=AAAA,MD5=BBBB", BODY)


def test_digest_that_is_not_base64():
    with pytest.raises(SignatureError, match=r"not a valid base64 string. Given digest: \*\*\*"):
        check_digest("SHA-256=***", BODY)


def test_digest_in_hex_is_not_accepted():
    hex_digest = hashlib.sha256(BODY).hexdigest()
    with pytest.raises(SignatureError, match="not a SHA-256 digest"):
        check_digest(f"SHA-256={hex_digest}", BODY)


def test_digest_of_another_body_says_what_was_computed():
    other = sha256_digest_header(b"{}")
    with pytest.raises(SignatureError, match=f"Computed SHA-256 digest: {BODY_SHA256}; given: "):
        check_digest(other, BODY)


def test_content_digest_header_is_an_rfc8941_byte_sequence():
    assert content_digest_header(BODY) == f"sha-256=:{BODY_SHA256}:"


def test_content_digest_agrees_with_the_library():
    """http-message-signatures is an independent RFC 9530 implementation."""
    assert content_digest_header(BODY) == ContentDigest.create(BODY)
    ContentDigest.verify(content_digest_header(BODY), BODY)


@pytest.mark.parametrize(
    "header",
    [
        f"sha-256=:{BODY_SHA256}:",
        f"sha-512=:{base64.b64encode(hashlib.sha512(BODY).digest()).decode()}:, sha-256=:{BODY_SHA256}:",
        f"unixsum=:AAAA:, sha-256=:{BODY_SHA256}:",
    ],
)
def test_content_digest_accepts_sha256_among_others(header):
    check_content_digest(header, BODY)


def test_content_digest_missing():
    with pytest.raises(SignatureError, match=r"^Content-Digest header missing$"):
        check_content_digest(None, BODY)


@pytest.mark.parametrize(
    "header",
    ["SHA-256=" + BODY_SHA256 + "=", "sha-256=:not base64!:", ",", "sha-256=:AAAA:,", "ünï=:AA==:"],
)
def test_content_digest_that_is_no_dictionary_is_a_400(header):
    with pytest.raises(MalformedContentDigest, match="not contain a valid RFC8941 dictionary") as caught:
        check_content_digest(header, BODY)
    assert caught.value.status == 400


def test_content_digest_with_a_repeated_algorithm_is_malformed():
    with pytest.raises(MalformedContentDigest):
        check_content_digest(f"sha-256=:{BODY_SHA256}:, sha-256=:{BODY_SHA256}:", BODY)


def test_content_digest_without_sha256():
    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    with pytest.raises(SignatureError, match="Offered algorithms: sha-512") as caught:
        check_content_digest(f"sha-512=:{sha512}:", BODY)
    assert caught.value.status == 401


@pytest.mark.parametrize("header", [f'sha-256="{BODY_SHA256}"', "sha-256", "sha-256=(:AAAA:)"])
def test_content_digest_whose_member_is_not_a_byte_sequence(header):
    with pytest.raises(SignatureError, match="not a byte sequence"):
        check_content_digest(header, BODY)


def test_content_digest_of_the_wrong_length():
    with pytest.raises(SignatureError, match="not a SHA-256 digest"):
        check_content_digest("sha-256=:AAAA:", BODY)


def test_content_digest_of_another_body():
    with pytest.raises(SignatureError, match=f"Computed SHA-256 digest: {BODY_SHA256}"):
        check_content_digest(content_digest_header(b"{}"), BODY)
