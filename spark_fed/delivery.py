"""Delivering activities: queued in the caller's transaction, sent signed by the worker.

Results follow Mastodon (docs/interop.md): 2xx is done; 401, 408, 429, 5xx
and network errors are retried with backoff for about two days; 501 and
every other 4xx are permanent; a 410 from an actor's inbox means the
actor is gone. A `Retry-After` (429, 503) is honoured, up to an hour. Failures
feed the circuit breaker (`spark_fed.queue.hosts`): a host failing again and
again is paused, and one that has failed on seven distinct days gets no
deliveries until it succeeds again or sends Spark a signed request.
A host under a suspended domain (`spark_fed.domain_policy`) gets nothing at all.
"""

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from multidict import CIMultiDictProxy
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from . import domain_policy
from .cache import TTLCache
from .db import Database
from .federation.documents import host_of
from .federation.signing import SignedClient
from .http.client import FetchError
from .http.responses import dumps
from .models import Account, Delivery
from .queue import GiveUp, RetryLater
from .queue.hosts import MAX_PAUSE, UNAVAILABLE_AFTER_DAYS, HostHealth
from .statuses import remove_account

log = logging.getLogger(__name__)

RETRIED_STATUSES = frozenset({401, 408, 429})
# Follow traffic goes even to an unavailable host, as Mastodon's does: it is how a link is re-made.
ALWAYS_SENT = frozenset({"Follow", "Accept", "Reject"})


def preferred_inboxes(recipients: Iterable[Account]) -> list[str]:
    """One inbox per server where a shared inbox exists, else each actor's own; no duplicates."""
    inboxes = dict.fromkeys(a.shared_inbox_url or a.inbox_url for a in recipients if not a.is_local)
    return list(inboxes)


def enqueue(
    session: AsyncSession,
    sender: Account,
    activity: dict[str, Any],
    inboxes: Iterable[str],
    *,
    not_before: datetime | None = None,
) -> int:
    """Add one delivery per distinct inbox to the caller's transaction; returns how many.

    NOT_BEFORE holds them back until then (an import's announcements go out spread over time)."""
    body = dumps(activity).decode("utf-8")
    count = 0
    for inbox in dict.fromkeys(inboxes):
        delivery = Delivery(sender_id=sender.id, inbox_url=inbox, activity_id=activity["id"], body=body)
        if not_before is not None:
            delivery.next_attempt_at = not_before
        session.add(delivery)
        count += 1
    return count


class DeliverySender:
    """The delivery queue's job handler."""

    def __init__(self, db: Database, signed: SignedClient, health: HostHealth | None = None) -> None:
        self.db = db
        self.signed = signed
        self.health = health or HostHealth(db)
        # A fan-out sends thousands of jobs for one sender: load it once, not per job.
        self._senders: TTLCache[Account] = TTLCache(size=256, seconds=60.0)

    async def __call__(self, job: Delivery) -> None:
        host = host_of(job.inbox_url)
        if (await domain_policy.refresh(self.db)).is_suspended(host):
            raise GiveUp(f"{host} is suspended here (a domain block)")
        if await self.health.is_unavailable(host) and _activity_type(job.body) not in ALWAYS_SENT:
            raise GiveUp(f"{host} has been unavailable for {UNAVAILABLE_AFTER_DAYS} days")
        sender = self._senders.get(str(job.sender_id))
        if sender is None:
            async with self.db.read() as session:
                sender = await session.get(Account, job.sender_id)
            if sender is not None:
                self._senders.put(str(job.sender_id), sender)
        if sender is None or sender.private_key_pem is None:
            raise GiveUp("the sender no longer exists")
        try:
            response = await self.signed.post(job.inbox_url, job.body.encode("utf-8"), sender)
        except FetchError as exc:
            if not exc.retryable:
                raise GiveUp(str(exc)) from None
            self.health.failed(host, str(exc))
            raise RetryLater(str(exc)) from None
        await self._settle(job, host, response.status, response.headers, response.body)

    async def _settle(
        self, job: Delivery, host: str, status: int, headers: CIMultiDictProxy[str], body: bytes
    ) -> None:
        if 200 <= status < 300:
            await self.health.answered(host)
            return
        reason = f"{job.inbox_url} answered {status}{_error_text(body)}"
        if status in RETRIED_STATUSES or (status >= 500 and status != 501):
            after = retry_after(headers.get("Retry-After"))
            self.health.failed(host, reason, after)
            raise RetryLater(reason, after)
        if status == 410:
            await self._actor_gone(job.inbox_url)
        raise GiveUp(reason)

    async def _actor_gone(self, inbox_url: str) -> None:
        """410 from a personal inbox: the actor was deleted; drop it and its follows."""
        async with self.db.write() as session:
            actor = (await session.exec(select(Account).where(Account.inbox_url == inbox_url))).first()
            if actor is not None and not actor.is_local:
                log.info("removing %s: its inbox answered 410", actor.uri)
                await remove_account(session, actor)


def retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """`Retry-After` as seconds or an HTTP date, kept within 1 s .. an hour; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        wait = timedelta(seconds=int(value[:7]))
    else:
        try:
            wait = parsedate_to_datetime(value) - (now or datetime.now(UTC))
        except (TypeError, ValueError):
            return None
    return min(max(wait, timedelta(seconds=1)), MAX_PAUSE)


def _activity_type(body: str) -> str | None:
    try:
        kind = json.loads(body).get("type")
    except (ValueError, AttributeError):
        return None
    return kind if isinstance(kind, str) else None


def _error_text(body: bytes) -> str:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError, RecursionError):  # any bytes a peer likes: nested deep, too
        return ""
    return f": {str(error)[:200]}" if error else ""
