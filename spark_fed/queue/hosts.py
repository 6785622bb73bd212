"""Deliveries by host: a claim that is fair between hosts and caps each, and the circuit breaker.

One dead host must cost only its own deliveries (docs/decisions.md, "Delivery by host"):

* The claim ranks due deliveries within their host (oldest first) and takes rank 1 of every
  host before rank 2 of any, so a fresh post reaches every server before a backlog to one
  server is worked through. A host gets no more than `per_host` deliveries in flight, counting
  the leases other workers hold, so a host that hangs occupies a few slots, never the worker.
* A host that fails `pause_after` times in a row is paused: its deliveries stay queued and are
  not claimed, so they use neither slots nor retries. When the pause ends, one delivery at a
  time (the oldest, due or not) probes it; a failed probe doubles the pause (up to an hour), a
  success or a signed request from the host ends it and makes its failed deliveries due at
  once. A `Retry-After` pauses the host until then. Mastodon's seven-day rule stays beside
  this (`host_failures`).
"""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, TextClause, and_, bindparam, case, delete, func, or_, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..db import Database
from ..models import Delivery, DeliveryHost, HostFailure, JobState
from ..models.types import UTCDateTime, utcnow

UNAVAILABLE_AFTER_DAYS = 7
MAX_PAUSE = timedelta(hours=1)
CLAIM_LOCK = 0x5350_4B44
"""PostgreSQL advisory lock key the delivery claims of every worker take turns on ("SPKD")."""


async def claim_deliveries(
    db: Database,
    limit: int,
    lease: timedelta,
    finished: Sequence[int] = (),
    *,
    per_host: int,
    failing_slots: int | None = None,
) -> list[Delivery]:
    """Up to LIMIT due deliveries, round-robin over hosts, at most PER_HOST in flight per host.

    FINISHED are deliveries the caller has done with but not yet written: leased, but no longer
    in flight, so they do not count against their host (a busy host is refilled at once).

    Hosts in trouble (a `delivery_hosts` row: failing, or probed after a pause) come after the
    others in each round. With FAILING_SLOTS, the failing ones (not paused yet) share that many
    requests in flight across all workers: a thousand hosts that hang cost a few dozen requests
    at a time, not a thousand signatures and sockets competing with the deliveries to servers
    that answer.
    """
    plan = await plan_claim(db, limit, finished, per_host=per_host, failing_slots=failing_slots)
    return await lease_planned(db, plan, lease, finished)


@dataclass(frozen=True)
class ClaimPlan:
    """Which hosts a claim takes how many deliveries from, and each host's cap on requests in flight."""

    take: dict[str, int]
    caps: dict[str, int]
    probing: frozenset[str]


@dataclass
class _HostQueue:
    host: str
    in_flight: int
    due: int
    waiting: int
    oldest: int | None
    """The id of its oldest due delivery: queued first."""


async def plan_claim(
    db: Database,
    limit: int,
    finished: Sequence[int] = (),
    *,
    per_host: int,
    failing_slots: int | None = None,
) -> ClaimPlan:
    """Read the queue once, grouped by host, and share LIMIT out round-robin.

    One grouped pass over an index, with no window over the queue: ranking 100,000 queued rows
    within their hosts cost SQLite most of a second a claim; counting them per host costs a
    few dozen milliseconds. It runs outside the write transaction (on SQLite the intake waits on
    that lock); `lease_planned` re-counts each host's requests in flight under the lease's lock.
    """
    now = utcnow()
    # The state is tested inside the sums, not in a WHERE: SQLite then reads the whole queue
    # from the host index alone, already grouped, instead of the state index plus every row.
    queued = col(Delivery.state) == JobState.QUEUED
    unleased = and_(queued, _unleased(now))
    leased = and_(queued, col(Delivery.locked_until) >= now, col(Delivery.id).not_in(finished))
    due = and_(unleased, col(Delivery.next_attempt_at) <= now)
    async with db.read() as session:
        budget = limit
        if failing_slots is not None:
            budget = failing_slots - await _failing_in_flight(session, now, finished)
        # Hosts with nothing left to take are not returned: once a fan-out is all in flight, a
        # claim reads a few rows, not one per host. Nor are failing hosts once their share is
        # used up: a thousand hosts that hang are not re-read at every claim.
        grouped = (
            select(
                col(Delivery.host),
                func.sum(case((leased, 1), else_=0)),
                func.sum(case((due, 1), else_=0)),
                func.sum(case((unleased, 1), else_=0)),
                func.min(case((due, col(Delivery.id)), else_=None)),
            )
            .group_by(col(Delivery.host))
            .having(func.sum(case((unleased, 1), else_=0)) > 0)
        )
        if budget <= 0:
            grouped = grouped.where(col(Delivery.host).not_in(_failing_hosts()))
        queues = [_HostQueue(*row) for row in (await session.exec(grouped)).all()]
        # Each host in trouble as paused (True) or probed (False), or failing (None): flags, not
        # times, so that a thousand rows cost no date parsing.
        state = case(
            (col(DeliveryHost.paused_until) > now, True),
            (col(DeliveryHost.paused_until).is_not(None), False),
            else_=None,
        )
        troubled = dict((await session.exec(select(DeliveryHost.host, state))).all()) if queues else {}
    caps: dict[str, int] = {}
    room: dict[str, int] = {}
    probing: set[str] = set()
    for queue in queues:
        paused = troubled.get(queue.host)
        if paused:
            continue  # paused: its deliveries wait, untried
        if paused is False and queue.host in troubled:
            # The pause has run out: one delivery at a time probes the host, its oldest even if
            # that one's own backoff has not (the breaker, not the backoff, decides when to try).
            probing.add(queue.host)
        caps[queue.host] = 1 if queue.host in probing else per_host
        available = queue.waiting if queue.host in probing else queue.due
        room[queue.host] = max(0, min(caps[queue.host] - queue.in_flight, available))
    # Round-robin: every host's first waiting delivery before any host's second. Within a round,
    # hosts that answer go before hosts in trouble, and hosts with fewer requests outstanding
    # (or hanging) before busier ones, then the longest waiting.
    order = sorted(
        (q for q in queues if room.get(q.host, 0) > 0),
        key=lambda q: (q.host in troubled, q.in_flight, q.oldest or 0, q.host),
    )
    take: dict[str, int] = {}
    picked = 0
    for round_ in range(1, per_host + 1):
        hosts = [q.host for q in order if room[q.host] >= round_]
        if not hosts or picked >= limit:
            break
        for host in hosts:
            if picked >= limit:
                break
            if host in troubled and troubled[host] is None:
                if budget <= 0:
                    continue
                budget -= 1
            take[host] = take.get(host, 0) + 1
            picked += 1
    return ClaimPlan(take=take, caps=caps, probing=frozenset(probing))


async def lease_planned(
    db: Database, plan: ClaimPlan, lease: timedelta, finished: Sequence[int] = ()
) -> list[Delivery]:
    """Lease the deliveries PLAN names, each host's oldest first, never past its cap.

    Two workers may plan at the same instant from the same counts. So that the per-host cap
    holds across them, each host's requests in flight are counted again inside the write
    transaction, which claims serialise on: SQLite's one writer, and on PostgreSQL a
    transaction-scoped advisory lock (a plain transaction would count before the other commits).
    Only rows still unleased are taken, so none is taken twice.
    """
    if not plan.take:
        return []
    now = utcnow()
    async with db.write() as session:
        if not db.is_sqlite:
            await session.exec(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
        counted = (
            select(col(Delivery.host), func.count())
            .where(
                col(Delivery.host).in_(list(plan.take)),
                col(Delivery.state) == JobState.QUEUED,
                col(Delivery.locked_until) >= now,
                col(Delivery.id).not_in(finished),
            )
            .group_by(col(Delivery.host))
        )
        in_flight = dict((await session.exec(counted)).all())
        takes = {host: min(n, plan.caps[host] - in_flight.get(host, 0)) for host, n in plan.take.items()}
        heads = _heads_statement({host: n for host, n in takes.items() if n > 0}, plan.probing, now)
        if heads is None:
            return []
        ids = list((await session.exec(heads)).scalars().all())
        if not ids:
            return []
        statement = (
            update(Delivery)
            .where(col(Delivery.id).in_(ids), _unleased(now))
            .values(locked_until=now + lease, lease_token=uuid.uuid4().hex)
            .returning(Delivery)
            .execution_options(synchronize_session=False)
        )
        jobs = list((await session.exec(statement)).scalars().all())
    return sorted(jobs, key=lambda job: (job.next_attempt_at, job.id))


def _failing_hosts():
    """Hosts failing and not paused yet: the ones that share `failing_slots`. (A paused host is
    not tried, and one probed after its pause gets one request at a time, spaced by the pause.)"""
    return select(DeliveryHost.host).where(col(DeliveryHost.paused_until).is_(None))


async def _failing_in_flight(session: AsyncSession, now: datetime, finished: Sequence[int]) -> int:
    """Deliveries to failing hosts that some worker is sending now."""
    leased = (
        select(func.count())
        .select_from(Delivery)
        .where(
            col(Delivery.host).in_(_failing_hosts()),
            col(Delivery.state) == JobState.QUEUED,
            col(Delivery.locked_until) >= now,
            col(Delivery.id).not_in(finished),
        )
    )
    return (await session.exec(leased)).one()


def _heads_statement(takes: dict[str, int], probing: frozenset[str], now: datetime) -> TextClause | None:
    """The ids of each host's oldest TAKES[host] unleased deliveries (due ones, unless PROBING).

    One UNION ALL of a small index read per host. Written as text: built with the expression
    language, a union of 64 such reads cost more to compile than to run.
    """
    if not takes:
        return None
    parts = []
    params: dict[str, object] = {"queued": JobState.QUEUED.value}
    for n, (host, count) in enumerate(takes.items()):
        due = "" if host in probing else " AND next_attempt_at <= :now"
        # Oldest first; the lease as a tie-break only makes the order the index's own, so a
        # host with a backlog of thousands is read from the index's head, with no sort.
        parts.append(
            f"SELECT id FROM (SELECT id FROM deliveries WHERE host = :host{n} AND state = :queued"
            f" AND (locked_until IS NULL OR locked_until < :now){due}"
            f" ORDER BY next_attempt_at, locked_until, id LIMIT :take{n}) AS head{n}"
        )
        params[f"host{n}"] = host
        params[f"take{n}"] = count
    return (
        text(" UNION ALL ".join(parts))
        .bindparams(bindparam("now", now, type_=UTCDateTime()), **params)
        .columns(id=Integer())
    )


def _unleased(now: datetime):
    return or_(col(Delivery.locked_until).is_(None), col(Delivery.locked_until) < now)


def pause_for(pauses: int, first: timedelta) -> timedelta:
    """The next pause of a host paused PAUSES times before: FIRST, doubled by each failed probe."""
    return min(first * 2 ** min(pauses, 16), MAX_PAUSE)


class HostHealth:
    """The hosts deliveries fail to: the breaker's pauses, and the seven-day rule.

    What is in memory only saves writes (a success on a host with no trouble writes nothing);
    the claim reads the table itself, so every worker process obeys every pause at once.
    """

    DAYS_REFRESH_SECONDS = 60.0
    TROUBLE_REFRESH_SECONDS = 5.0

    def __init__(self, db: Database, *, pause_after: int = 3, first_pause: timedelta = timedelta(seconds=30)):
        self.db = db
        self.pause_after = pause_after
        self.first_pause = first_pause
        self._unavailable: set[str] = set()
        self._failing_days: set[str] = set()
        self._troubled: set[str] = set()
        self._days_loaded_at = float("-inf")
        self._trouble_loaded_at = float("-inf")
        self._pending: dict[str, _Outcome] = {}

    async def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._days_loaded_at >= self.DAYS_REFRESH_SECONDS:
            async with self.db.read() as session:
                days = func.count(col(HostFailure.day))
                rows = (
                    await session.exec(select(HostFailure.host, days).group_by(col(HostFailure.host)))
                ).all()
            self._failing_days = {host for host, _ in rows}
            self._unavailable = {host for host, count in rows if count >= UNAVAILABLE_AFTER_DAYS}
            self._days_loaded_at = now
        if now - self._trouble_loaded_at >= self.TROUBLE_REFRESH_SECONDS:
            # Another worker may have paused a host this process then reaches: see it soon.
            async with self.db.read() as session:
                self._troubled = set((await session.exec(select(DeliveryHost.host))).all())
            self._trouble_loaded_at = now

    async def is_unavailable(self, host: str) -> bool:
        """Failed on seven distinct days: gets nothing but follow traffic until it answers."""
        await self._refresh()
        return host in self._unavailable

    def failed(self, host: str, error: str, retry_after: timedelta | None = None) -> None:
        """Count a failure, written at the next `flush` (the worker's, before it settles the job)."""
        outcome = self._pending.setdefault(host, _Outcome())
        outcome.failures += 1
        outcome.error = error
        outcome.retry_after = retry_after or outcome.retry_after

    async def answered(self, host: str) -> None:
        """A delivery succeeded: the host's trouble ends at the next `flush` (if it had any)."""
        await self._refresh()
        if host in self._troubled or host in self._failing_days or host in self._pending:
            # Kept beside failures of the same flush window: a Retry-After a 429 asked for
            # moments ago still holds.
            self._pending.setdefault(host, _Outcome()).recovered = True

    async def flush(self) -> None:
        """Write the outcomes gathered since the last flush, in one transaction."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        async with self.db.write() as session:
            for host, outcome in pending.items():
                if outcome.recovered:
                    await _forget(session, host)
                if outcome.failures:
                    await self._count(session, host, outcome)
        for host, outcome in pending.items():
            if outcome.recovered:
                self._forgotten(host)
            if outcome.failures:
                self._failing_days.add(host)
                self._troubled.add(host)

    async def recovered(self, host: str) -> None:
        """The host sent us a signed request: it is up; forget its failures and resume its deliveries."""
        await self._refresh()
        self._pending.pop(host, None)
        if host not in self._failing_days and host not in self._troubled:
            return
        async with self.db.write() as session:
            await _forget(session, host)
        self._forgotten(host)

    def _forgotten(self, host: str) -> None:
        self._failing_days.discard(host)
        self._unavailable.discard(host)
        self._troubled.discard(host)

    async def _count(self, session: AsyncSession, host: str, outcome: "_Outcome") -> None:
        """Add OUTCOME's failures; pause the host after `pause_after` in a row, or until Retry-After."""
        now = utcnow()
        insert = self.db.insert
        today = datetime.now(UTC).date().isoformat()
        await session.exec(insert(HostFailure).values(host=host, day=today).on_conflict_do_nothing())
        error = outcome.error[:500]
        counted = (
            insert(DeliveryHost)
            .values(host=host, failures=outcome.failures, pauses=0, last_error=error, updated_at=now)
            .on_conflict_do_update(
                index_elements=["host"],
                set_={
                    "failures": col(DeliveryHost.failures) + outcome.failures,
                    "last_error": error,
                    "updated_at": now,
                },
            )
            .returning(DeliveryHost.failures, DeliveryHost.paused_until, DeliveryHost.pauses)
        )
        failures, paused_until, pauses = (await session.exec(counted)).one()
        if outcome.retry_after is not None:
            until = now + min(outcome.retry_after, MAX_PAUSE)
        elif failures >= self.pause_after and (paused_until is None or paused_until <= now):
            # Requests that were in flight when the pause began fail too: they do not lengthen it.
            until = now + pause_for(pauses, self.first_pause)
        else:
            return
        pause = (
            update(DeliveryHost)
            .where(col(DeliveryHost.host) == host)
            .values(paused_until=until, pauses=pauses + 1)
        )
        await session.exec(pause)


@dataclass
class _Outcome:
    """What happened with one host since the last flush."""

    failures: int = 0
    error: str = ""
    retry_after: timedelta | None = None
    recovered: bool = False


async def _forget(session: AsyncSession, host: str) -> None:
    """End HOST's trouble; what failed while it was down goes now, not after the rest of its backoff.

    (Deliveries spaced out on purpose, an import's, have not failed and keep their time.)
    """
    await session.exec(delete(HostFailure).where(col(HostFailure.host) == host))
    await session.exec(delete(DeliveryHost).where(col(DeliveryHost.host) == host))
    await session.exec(
        update(Delivery)
        .where(
            col(Delivery.host) == host,
            col(Delivery.state) == JobState.QUEUED,
            col(Delivery.attempts) > 0,
            col(Delivery.next_attempt_at) > utcnow(),
        )
        .values(next_attempt_at=utcnow())
    )


@dataclass(frozen=True)
class HostState:
    """One host with deliveries waiting or trouble, as `spark-fed hosts` and the admin page show it."""

    host: str
    state: str  # "paused", "probing", "failing" or "ok"
    waiting: int
    failures: int
    paused_until: datetime | None
    last_error: str | None


async def host_states(db: Database, limit: int = 500) -> list[HostState]:
    """Hosts in trouble and hosts with deliveries queued, the most waiting first."""
    now = utcnow()
    async with db.read() as session:
        waiting = dict(
            (
                await session.exec(
                    select(Delivery.host, func.count())
                    .where(col(Delivery.state) == JobState.QUEUED)
                    .group_by(col(Delivery.host))
                )
            ).all()
        )
        troubled = {row.host: row for row in (await session.exec(select(DeliveryHost))).all()}
    states = []
    for host in set(waiting) | set(troubled):
        row = troubled.get(host)
        if row is None:
            state = "ok"
        elif row.paused_until is None:
            state = "failing"
        else:
            state = "paused" if row.paused_until > now else "probing"
        states.append(
            HostState(
                host=host,
                state=state,
                waiting=waiting.get(host, 0),
                failures=row.failures if row else 0,
                paused_until=row.paused_until if row else None,
                last_error=row.last_error if row else None,
            )
        )
    states.sort(key=lambda s: (s.state == "ok", -s.waiting, s.host))
    return states[:limit]
