"""The app factory: the one module where the core and the feature areas are wired together.

(`cli.py` is the other wiring module; it takes the workers from here.)
"""

import asyncio
import contextlib
import functools
import gc
import logging
import resource
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

import actors.routes
import api.cors
import api.oauth
import api.routes
import api.statuses
import inbox.processing
import inbox.routes
import media.routes
import outbox.featured
import outbox.routes
import outbox.scheduled
import web.routes as web_pages
import webfinger.routes
from outbox.moderation import purge_suspended
from outbox.polls import PollJobs

from . import domain_policy
from .cards.fetcher import IN_ALL, TOTAL_SECONDS, CardFetcher
from .config import Config
from .context import Context, open_context
from .delivery import DeliverySender
from .http.middleware import error_middleware, page_headers_middleware
from .http.templates import TEMPLATES, Templates
from .models import CardFetch, Delivery, InboxItem, PollJob, ScheduledStatus
from .queue import Worker
from .queue.cards import CardJobs
from .queue.hosts import HostHealth, claim_deliveries
from .queue.intake import InboxIntake
from .queue.scheduled import scheduled_worker
from .state import CONFIG, CONTEXT, DB, HOST_HEALTH, INTAKE, URLS
from .urls import Urls

AREAS = (
    actors.routes,
    webfinger.routes,
    inbox.routes,
    outbox.routes,
    outbox.featured,
    media.routes,
    api.oauth,
    api.routes,
)
TIDY_EVERY = 3600.0
SPARE_FILES = 256
"""Open files beyond the deliveries' sockets: the database, clients' connections, media."""


@dataclass
class Workers:
    delivery: Worker[Delivery]
    inbox: Worker[InboxItem]
    cards: Worker[CardFetch]
    sender: DeliverySender
    scheduled: Worker[ScheduledStatus]
    polls: Worker[PollJob]

    ctx: Context

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(
            self.delivery.run(stop),
            self.inbox.run(stop),
            self.scheduled.run(stop),
            self.cards.run(stop),
            self.polls.run(stop),
            self._tidy(stop),
        )

    async def _tidy(self, stop: asyncio.Event) -> None:
        """Every `TIDY_EVERY` seconds: uploads no post took within a day go, and so does the data
        of local accounts suspended longer than the grace period."""
        while not stop.is_set():
            for chore in (self.ctx.media.remove_unattached, functools.partial(purge_suspended, self.ctx)):
                try:
                    await chore()
                except Exception:
                    logging.getLogger(__name__).exception("the periodic tidy failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TIDY_EVERY)


def build_workers(ctx: Context, defer_to: Callable[[], bool] | None = None) -> Workers:
    """The delivery and inbox workers, wired so that work queued in this process wakes them.

    DEFER_TO (the intake's `busy`, inside `serve`) makes inbox processing step back during a burst.
    """
    settings = ctx.config.delivery
    # A socket per delivery in flight, and as many again idle for a while after a fan-out
    # (spark_fed/http/client.py: IDLE_SECONDS).
    _allow_open_files(2 * settings.concurrency + SPARE_FILES)
    health = HostHealth(
        ctx.db, pause_after=settings.pause_after, first_pause=timedelta(seconds=settings.pause_seconds)
    )
    sender = DeliverySender(ctx.db, ctx.signed, health)
    workers = Workers(
        delivery=Worker(
            ctx.db,
            Delivery,
            sender,
            # Many at once: a delivery waiting on a slow host costs a task, and the claim keeps
            # any one host to `per_host` of them (spark_fed/queue/hosts.py).
            concurrency=settings.concurrency,
            claim=functools.partial(
                claim_deliveries, ctx.db, per_host=settings.per_host, failing_slots=settings.failing_slots
            ),
            lease=timedelta(seconds=settings.lease_seconds),
            before_settling=health.flush,
        ),
        inbox=Worker(
            ctx.db,
            InboxItem,
            inbox.processing.InboxProcessor(ctx),
            concurrency=32,
            max_attempts=8,
            # Done items keep their id (to drop redeliveries) but not their body.
            keep_done={"body": ""},
            retention=inbox.routes.REDELIVERY_MEMORY,
            order_by=lambda item: item.actor_uri,
            defer_to=defer_to,
        ),
        cards=Worker(
            ctx.db,
            CardFetch,
            CardJobs(
                ctx.db,
                CardFetcher(
                    ctx.http, total_seconds=min(TOTAL_SECONDS, ctx.config.federation.request_timeout)
                ),
                ctx.media.store,
                base_url=ctx.config.base_url,
                image_owner_id=ctx.instance_actor.id,
            ),
            # The fetcher holds each host to a couple of fetches and all to IN_ALL; a page that
            # yields nothing is not asked again (a broken job is tried once more).
            concurrency=IN_ALL,
            max_attempts=2,
            stop_grace=1.0,  # a fetch cut off is only asked again; stopping need not wait for it
        ),
        sender=sender,
        scheduled=scheduled_worker(ctx.db, functools.partial(outbox.scheduled.publish, ctx)),
        # A poll's Update and its end: few, and each writes little.
        polls=Worker(ctx.db, PollJob, PollJobs(ctx), concurrency=4, max_attempts=10),
        ctx=ctx,
    )
    ctx.deliveries_queued = workers.delivery.wake
    ctx.inbox_stored = workers.inbox.wake
    ctx.actors.on_queued = workers.inbox.wake
    return workers


@contextlib.asynccontextmanager
async def listening(ctx: Context) -> AsyncIterator[None]:
    """While the block runs, hear the changes other processes publish and keep what this process
    holds in memory current with them: a suspension made anywhere is in force here at once."""
    async with ctx.db.changes.listening(), domain_policy.kept_current(ctx.db):
        yield


def _allow_open_files(wanted: int) -> None:
    """Each delivery in flight holds a socket: raise the soft open-file limit to fit, if the hard
    one allows (many systems start services with a soft limit of 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < wanted:
        logging.getLogger(__name__).warning(
            "open files limited to %d: lower delivery.concurrency or raise the hard limit", hard
        )


def create_app(config: Config, *, migrate: bool = True) -> web.Application:
    app = web.Application(
        middlewares=[api.cors.cors_middleware, page_headers_middleware, error_middleware],
        client_max_size=config.federation.max_body_bytes,
    )
    app[CONFIG] = config
    app[URLS] = Urls(config)
    app[TEMPLATES] = Templates()  # Jinja2 is imported on the first page, not at start-up
    app.cleanup_ctx.append(functools.partial(_services, migrate=migrate))
    for area in AREAS:
        app.router.add_routes(area.routes)
    inbox.routes.setup(app)
    api.statuses.setup(app)
    web_pages.setup(app)
    return app


async def _services(app: web.Application, *, migrate: bool) -> AsyncIterator[None]:
    async with open_context(app[CONFIG], migrate=migrate) as ctx, listening(ctx):
        intake = InboxIntake(ctx.db, on_stored=lambda: ctx.inbox_stored())
        workers = build_workers(ctx, defer_to=intake.busy)
        app[CONTEXT] = ctx
        app[DB] = ctx.db
        app[INTAKE] = intake
        app[HOST_HEALTH] = workers.sender.health
        intake.start()
        # What start-up allocated lives as long as the process: keep the collector off it.
        gc.freeze()
        stop = asyncio.Event()
        run = workers.run(stop) if app[CONFIG].server.run_workers else stop.wait()
        running = asyncio.create_task(run, name="workers")
        try:
            yield
        finally:
            stop.set()
            await intake.close()
            # Workers finish the job in hand; a job cut off here is retried when its lease ends.
            await asyncio.wait([running], timeout=10)
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
