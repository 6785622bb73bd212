"""What both signature schemes share: header lookup and Mastodon's time window."""

import calendar
import re
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from .errors import SignatureError

# Mastodon's window (docs/interop.md): a signature may claim to be up to an hour
# from the future, lives 5 minutes unless it says otherwise, at most 12 hours, and is still
# accepted up to an hour after it expired.
CLOCK_SKEW_MARGIN = 3600
DEFAULT_LIFETIME = 300
EXPIRATION_WINDOW_LIMIT = 12 * 3600
REPLAY_WINDOW = CLOCK_SKEW_MARGIN + EXPIRATION_WINDOW_LIMIT + CLOCK_SKEW_MARGIN
"""The longest span, in seconds, over which one signature is accepted: its creation may be an hour
ahead of our clock, it lives at most 12 hours, and it is still taken an hour after it expired. A
request replayed later than this after it first arrived fails its signature check; one replayed
sooner must be caught by the inbox's memory of what it received."""

OUTSIDE_WINDOW = "Signed request date outside acceptable time window"


class HeaderItems(Protocol):
    """Anything with `items()`: a dict, or aiohttp's multidict (which repeats a repeated field)."""

    def items(self) -> Iterable[tuple[str, str]]: ...


def header_map(headers: HeaderItems) -> dict[str, str]:
    """Headers by lowercase name; a repeated field's lines are joined with ", " (RFC 9110 §5.3)."""
    result: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        result[key] = f"{result[key]}, {value}" if key in result else value
    return result


def unix_now(now: datetime | float | None) -> float:
    """`now` as Unix seconds; tests pass a fixed instant, the inbox passes nothing."""
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
_RFC1123 = re.compile(
    r"\s*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT\s*"
)


def parse_http_date(value: str) -> int:
    """An RFC 1123 date (`Sun, 06 Nov 1994 08:49:37 GMT`) as Unix seconds.

    Only that form: it is what every server sends and what Mastodon's `Time.httpdate` is fed;
    anything else is refused with Mastodon's "Invalid Date header".
    """
    match = _RFC1123.fullmatch(value)
    if match is None:
        raise SignatureError(f"Invalid Date header: not RFC 1123 compliant date: {value!r}")
    day, month, year, hour, minute, second = match.groups()
    try:
        parts = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
    except ValueError:
        raise SignatureError(f"Invalid Date header: not a valid date: {value!r}") from None
    return calendar.timegm(parts.timetuple())


def check_time_window(created: float | None, expires: float | None, now: float) -> None:
    """Raise unless `now` is inside Mastodon's window around the signature's creation/expiry."""
    if created is not None:
        expires = created + DEFAULT_LIFETIME if expires is None else expires
        expires = min(expires, created + EXPIRATION_WINDOW_LIMIT)
        if created > now + CLOCK_SKEW_MARGIN:
            raise SignatureError(OUTSIDE_WINDOW)
    if expires is not None and now > expires + CLOCK_SKEW_MARGIN:
        raise SignatureError(OUTSIDE_WINDOW)
