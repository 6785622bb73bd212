"""Mastodon's rule for local user names: letters, digits and underscore, at most 30."""

import re

from .errors import UsageError

USERNAME_RE = re.compile(r"\A[A-Za-z0-9_]{1,30}\Z")


def check_username(name: str) -> str:
    if not USERNAME_RE.match(name):
        raise UsageError(f"invalid username {name!r}: use 1 to 30 letters, digits or underscores")
    return name


def is_valid_username(name: str) -> bool:
    return bool(USERNAME_RE.match(name))
