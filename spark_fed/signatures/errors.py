"""Why a signed request was refused.

Every refusal carries a one-line reason that is safe to show to the sender: the inbox answers
`{"error": reason}` with `status`, as Mastodon does, because those reasons are what remote admins
debug federation with.
"""


class SignatureError(Exception):
    """The request's signature is missing, too weak, stale or does not verify (401)."""

    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedSignature(SignatureError):
    """A signature header could not be parsed at all (still 401, as in Mastodon)."""


class MalformedContentDigest(SignatureError):
    """`Content-Digest` is not an RFC 8941 dictionary; Mastodon answers 400 here, not 401."""

    status = 400
