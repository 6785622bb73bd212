"""Checking a username (or e-mail) and password, with a brake on guessing.

Every password door (the OAuth password grant, the consent page's form and
the web interface's sign-in page) comes through `sign_in`, so one guard counts
their failures: per remote
address and per account, in bounded TTL caches. After `ADDRESS_LIMIT`
failures from one address, or `ACCOUNT_LIMIT` against one account, further
attempts are refused with 429 before any password is hashed, until
`WINDOW_SECONDS` have passed since the last failure. The account limit is
higher because anyone can push it (and so lock its owner out for a while);
the address limit catches the ordinary single-source guesser first.

The counters live in the process: with `server.processes = N` a guesser gets
at most N times the attempts, which still bounds guessing (a shared counter
would cost a database write per failure, which is itself a lever for load).
"""

import ipaddress
import secrets
import weakref
from dataclasses import dataclass, field

from aiohttp import web

from .cache import TTLCache
from .config import AuthConfig
from .context import Context
from .models import Account, User
from .passwords import hash_password, verify_password
from .queries.accounts import find_local_user, find_user_by_email

ADDRESS_LIMIT = 5
ACCOUNT_LIMIT = 10
WINDOW_SECONDS = 15 * 60
TRACKED = 10_000
WRONG_CREDENTIALS = "Wrong username, e-mail or password."
TOO_MANY = "Too many failed sign-ins. Wait a few minutes and try again."
NOT_APPROVED = "This account is waiting for an administrator's approval."
SUSPENDED = "This account is suspended."


class TooManyAttempts(Exception):
    """Too many recent failures from this address or against this account."""


class BadCredentials(Exception):
    """No such account, no password set, or the wrong password: callers cannot tell which.

    Also raised, after a right password only, for a suspended account (with `SUSPENDED` as its
    text): callers that map this class to their "wrong credentials" answer refuse it so."""


class NotApproved(Exception):
    """The right password, for a sign-up that an admin has not approved yet."""


@dataclass
class SignInGuard:
    """Failed sign-ins per address and per account, at most `size` of each, forgotten after `seconds`."""

    size: int = TRACKED
    seconds: float = WINDOW_SECONDS
    address_limit: int = ADDRESS_LIMIT
    account_limit: int = ACCOUNT_LIMIT
    _addresses: TTLCache[int] = field(init=False)
    _accounts: TTLCache[int] = field(init=False)

    def __post_init__(self) -> None:
        # Two caches, so that a flood of addresses cannot evict the per-account counts.
        self._addresses = TTLCache(self.size, self.seconds)
        self._accounts = TTLCache(self.size, self.seconds)

    def failures(self, address: str, account_id: int | None = None) -> tuple[int, int]:
        by_account = self._accounts.get(str(account_id)) if account_id is not None else None
        return self._addresses.get(address) or 0, by_account or 0

    def blocked(self, address: str, account_id: int | None) -> bool:
        by_address, by_account = self.failures(address, account_id)
        return by_address >= self.address_limit or by_account >= self.account_limit

    def failed(self, address: str, account_id: int | None) -> None:
        by_address, by_account = self.failures(address, account_id)
        self._addresses.put(address, by_address + 1)
        if account_id is not None:
            self._accounts.put(str(account_id), by_account + 1)

    def succeeded(self, account_id: int) -> None:
        # The address count stays: a guesser with an account of their own must not reset it.
        self._accounts.put(str(account_id), 0)


_guards: weakref.WeakKeyDictionary[web.Application, SignInGuard] = weakref.WeakKeyDictionary()
_dummy_hashes: dict[AuthConfig, str] = {}


def guard_for(app: web.Application) -> SignInGuard:
    """The app's guard (one per app: tests run many apps in one process)."""
    if app not in _guards:
        _guards[app] = SignInGuard()
    return _guards[app]


def remote_address(request: web.Request) -> str:
    """The address of whoever is signing in.

    Behind a reverse proxy on the same host every request comes from loopback, and counting
    them as one address would let one guesser lock everybody out. So when the peer is loopback
    the last `X-Forwarded-For` entry counts: the one the proxy appended, which a client cannot
    forge (it can only prepend). A proxy on another host is not trusted (yet: that needs a
    setting naming it), so there the proxy's own address is what is counted.
    """
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and _is_loopback(peer):
        last = forwarded.split(",")[-1].strip()
        if _is_address(last):
            return last
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_loopback(text: str) -> bool:
    return _is_address(text) and ipaddress.ip_address(text).is_loopback


async def _find(ctx: Context, login: str) -> tuple[Account | None, User | None]:
    """The local account LOGIN names: an e-mail address, `name`, `@name` or `name@our.domain`."""
    login = login.strip().removeprefix("@")
    async with ctx.db.read() as session:
        if "@" in login:
            user = await find_user_by_email(session, login)
            if user is not None:
                return await session.get(Account, user.account_id), user
            name, _, domain = login.rpartition("@")
            if domain.lower() != ctx.config.server.domain.lower():
                return None, None
            login = name
        account = await find_local_user(session, login)
        if account is None:
            return None, None
        return account, await session.get(User, account.id)


async def _waste_a_verify(config: AuthConfig, password: str) -> None:
    """Verify against a throwaway hash, so an unknown login takes as long as a wrong password."""
    if config not in _dummy_hashes:
        _dummy_hashes[config] = await hash_password(config, secrets.token_urlsafe(16))
    await verify_password(config, _dummy_hashes[config], password)


async def sign_in(ctx: Context, guard: SignInGuard, address: str, login: str, password: str) -> Account:
    """The account LOGIN and PASSWORD open; `BadCredentials` or `TooManyAttempts` otherwise."""
    account, user = await _find(ctx, login)
    account_id = account.id if account is not None else None
    if guard.blocked(address, account_id):
        raise TooManyAttempts()
    stored = user.password_hash if user is not None else None
    if account is None or not stored:
        await _waste_a_verify(ctx.config.auth, password)
        ok = False
    else:
        ok = await verify_password(ctx.config.auth, stored, password)
    if not ok or account is None:
        guard.failed(address, account_id)
        raise BadCredentials()
    guard.succeeded(account.id)
    if account.suspended_at is not None:
        raise BadCredentials(SUSPENDED)
    if user is not None and not user.approved:
        raise NotApproved()
    return account
