"""The exceptions Spark raises on purpose.

Every error that should reach a client as an HTTP answer derives from
`SparkError` and carries its status; the app's one error middleware turns it
into `{"error": "<message>"}`, so handlers never build error responses.
"""


class SparkError(Exception):
    """An error with a one-line message that is safe to show to the client."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SparkError):
    status = 400


class Unauthorized(SparkError):
    status = 401


class Forbidden(SparkError):
    status = 403


class NotFound(SparkError):
    status = 404


class Conflict(SparkError):
    status = 409


class Gone(SparkError):
    status = 410


class UnprocessableEntity(SparkError):
    """Well-formed but invalid input (Mastodon's 422 for validation failures)."""

    status = 422


class PayloadTooLarge(SparkError):
    status = 413


class UnsupportedMediaType(SparkError):
    status = 415


class ServiceUnavailable(SparkError):
    """Overloaded for a moment: peers retry a 503, as they should."""

    status = 503


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key or the problem."""


class UsageError(Exception):
    """A command was given bad input (exit status 2)."""


class ActorNotFound(Exception):
    """No usable actor behind a handle or URL; the message says why in one line.

    Here rather than with the code that fetches actors so that the command line can catch it
    without importing that code (and the HTTP client under it) for commands that never fetch.
    """
