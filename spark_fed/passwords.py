"""Password hashing with argon2id, off the event loop and a few at a time.

Each hash takes tens of MiB and tens of milliseconds of a core on purpose:
run on the loop it would stall every other request, run unbounded it would
let a burst of sign-ins exhaust memory. argon2 is imported on first use, so
a server that nobody signs in to never loads it.
"""

import asyncio
import weakref
from functools import cache
from typing import Any

from .config import AuthConfig

CONCURRENT_HASHES = 2
_semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)
MIN_LENGTH = 8
MAX_LENGTH = 1024


class WeakPassword(ValueError):
    """The password is too short or too long; the message says which."""


@cache
def _hasher(memory_kib: int, time_cost: int) -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def _slots() -> asyncio.Semaphore:
    """One bound per event loop (tests run many loops in one process)."""
    loop = asyncio.get_running_loop()
    if loop not in _semaphores:
        _semaphores[loop] = asyncio.Semaphore(CONCURRENT_HASHES)
    return _semaphores[loop]


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")


async def hash_password(config: AuthConfig, password: str) -> str:
    check_strength(password)
    hasher = _hasher(config.password_memory_kib, config.password_time_cost)
    async with _slots():
        return await asyncio.to_thread(hasher.hash, password)


async def verify_password(config: AuthConfig, stored_hash: str | None, password: str) -> bool:
    """False for a wrong password or an account without one; never raises for a bad guess."""
    if not stored_hash or len(password) > MAX_LENGTH:
        return False
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher(config.password_memory_kib, config.password_time_cost)
    async with _slots():
        try:
            return await asyncio.to_thread(hasher.verify, stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False
