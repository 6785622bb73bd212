"""Accounts: who am I, look someone up, follow them, and how we relate."""

import contextlib

from aiohttp import web
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from outbox import actions, quotes
from spark_fed.accounts import posting_defaults, set_posting_defaults
from spark_fed.content import normalize_tag
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.federation.actors import ActorNotFound
from spark_fed.http.multipart import is_multipart
from spark_fed.http.responses import json_response
from spark_fed.media.processing import MediaRejected
from spark_fed.media.records import profile_images
from spark_fed.models import Account, Follow, FollowState, Status, User
from spark_fed.queries.follows import follow_between
from spark_fed.queries.marks import pinned_posts
from spark_fed.queries.paging import Cursor
from spark_fed.queries.safety import Relations, relations
from spark_fed.queries.timelines import account_posts
from spark_fed.queries.views import accounts_by_id
from spark_fed.state import CONTEXT
from spark_fed.urls import Urls

from . import params
from .auth import optional, require
from .entities import ProfileImages, credential_account
from .lookup import account_or_404, api_id
from .media import read_multipart
from .paging import link_header
from .presenters import account_json, counts, filtered_statuses_json

routes = web.RouteTableDef()

IMAGE_FIELDS = frozenset({"avatar", "header"})
POSTING_VISIBILITIES = {"public": "public", "unlisted": "unlisted", "private": "followers"}


@routes.get("/api/v1/accounts/verify_credentials")
async def verify_credentials(request: web.Request) -> web.Response:
    viewer = await require(request, "read:accounts")
    ctx = request.app[CONTEXT]
    user = await posting_defaults(ctx.db, viewer)
    async with ctx.db.read() as session:
        return json_response(await _credential_json(session, viewer, ctx.urls, user))


async def _credential_json(session: AsyncSession, account: Account, urls: Urls, user: User) -> dict:
    images = ProfileImages.of(await profile_images(session, {account.id}), account.id)
    return credential_account(account, urls, await counts(session, account), user, images)


@routes.get("/api/v1/accounts/lookup")
async def lookup(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    handle = request.query.get("acct", "").strip().lstrip("@")
    if not handle:
        raise NotFound("Record not found")
    if "@" not in handle:
        handle = f"{handle}@{ctx.urls.domain}"
    try:
        account = await ctx.actors.by_handle_or_url(handle)
    except (ActorNotFound, UsageError):
        raise NotFound("Record not found") from None
    async with ctx.db.read() as session:
        return json_response(await account_json(session, account, ctx.urls))


@routes.get("/api/v1/accounts/relationships")
async def relationships(request: web.Request) -> web.Response:
    viewer = await require(request, "read:follows")
    ctx = request.app[CONTEXT]
    wanted = [int(i) for i in params.ids(request, "id") if params.is_id(i) and int(i) < 2**31][:40]
    async with ctx.db.read() as session:
        rows = (
            await session.exec(
                select(Follow).where(
                    ((Follow.follower_id == viewer.id) & col(Follow.followee_id).in_(wanted))
                    | ((Follow.followee_id == viewer.id) & col(Follow.follower_id).in_(wanted))
                )
            )
        ).all()
        others = await accounts_by_id(session, set(wanted))
        between = await relations(session, viewer.id, list(others.values()))
    result = []
    for other in wanted:
        out = next((f for f in rows if f.follower_id == viewer.id and f.followee_id == other), None)
        back = next((f for f in rows if f.followee_id == viewer.id and f.follower_id == other), None)
        result.append(_relationship(other, out, back, between.get(other)))
    return json_response(result)


def _relationship(other: int, out: Follow | None, back: Follow | None, rel: Relations | None = None) -> dict:
    """Mastodon's Relationship; REL holds the blocks and mutes between the two (none: none)."""
    rel = rel or Relations()
    following = out is not None and out.state == FollowState.ACCEPTED
    return {
        "id": str(other),
        "following": following,
        "showing_reblogs": following,
        "notifying": False,
        "languages": None,
        "followed_by": back is not None and back.state == FollowState.ACCEPTED,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting and rel.muting_notifications,
        "requested": out is not None and out.state == FollowState.PENDING,
        "requested_by": back is not None and back.state == FollowState.PENDING,
        "domain_blocking": rel.domain_blocking,
        "endorsed": False,
        "note": "",
    }


@routes.get("/api/v1/accounts/{id}")
async def show(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        account = await account_or_404(session, api_id(request))
        return json_response(await account_json(session, account, ctx.urls))


@routes.get("/api/v1/accounts/{id}/statuses")
async def account_statuses(request: web.Request) -> web.Response:
    viewer = await optional(request, "read:statuses")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        account = await account_or_404(session, api_id(request))
        tagged = params.text(request.query.get("tagged"))
        rows = (
            _within(await pinned_posts(session, viewer, account), params.page_cursor(request))
            if _flag(request, "pinned")
            else await account_posts(
                session,
                viewer,
                account,
                limit=params.limit(request),
                cursor=params.page_cursor(request),
                replies=not _flag(request, "exclude_replies"),
                reblogs=not _flag(request, "exclude_reblogs"),
                only_media=_flag(request, "only_media"),
                tagged=normalize_tag(tagged.lstrip("#")) if tagged else None,
            )
        )
        entities = await filtered_statuses_json(session, rows, viewer, ctx.urls, "account")
    return json_response(entities, headers=link_header(request, [r.id for r in rows]))


def _within(rows: list[Status], cursor: Cursor) -> list[Status]:
    """The pinned posts (at most a handful, all read at once) that CURSOR's status ids keep."""
    return [
        r
        for r in rows
        if (cursor.max_id is None or r.id < cursor.max_id)
        and (cursor.since_id is None or r.id > cursor.since_id)
        and (cursor.min_id is None or r.id > cursor.min_id)
    ]


def _flag(request: web.Request, name: str) -> bool:
    return params.flag(request.query.get(name), name)


async def relationship_with(request: web.Request, viewer: Account, other: Account) -> web.Response:
    async with request.app[CONTEXT].db.read() as session:
        out = await follow_between(session, viewer.id, other.id)
        back = await follow_between(session, other.id, viewer.id)
        between = await relations(session, viewer.id, [other])
    return json_response(_relationship(other.id, out, back, between.get(other.id)))


@routes.post("/api/v1/accounts/{id}/follow")
async def follow(request: web.Request) -> web.Response:
    viewer = await require(request, "write:follows")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        other = await account_or_404(session, api_id(request))
    try:
        await actions.follow(ctx, viewer, other.uri)
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None
    return await relationship_with(request, viewer, other)


@routes.post("/api/v1/accounts/{id}/unfollow")
async def unfollow(request: web.Request) -> web.Response:
    viewer = await require(request, "write:follows")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        other = await account_or_404(session, api_id(request))
    with contextlib.suppress(UsageError):  # not following: Mastodon answers all the same
        await actions.unfollow(ctx, viewer, other.uri)
    return await relationship_with(request, viewer, other)


@routes.post("/api/v1/accounts/{id}/remove_from_followers")
async def remove_from_followers(request: web.Request) -> web.Response:
    viewer = await require(request, "write:follows")
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        other = await account_or_404(session, api_id(request))
    with contextlib.suppress(UsageError):  # not a follower: Mastodon answers all the same
        await actions.remove_follower(ctx, viewer, other.uri)
    return await relationship_with(request, viewer, other)


@routes.patch("/api/v1/accounts/update_credentials")
async def update_credentials(request: web.Request) -> web.Response:
    viewer = await require(request, "write:accounts")
    ctx = request.app[CONTEXT]
    files: dict[str, bytes] = {}
    if is_multipart(request):  # avatar and header come as files; read as a stream, each capped
        body = await read_multipart(request, IMAGE_FIELDS, ctx.config.media.max_upload_bytes)
        data, files = body.fields, body.files
    else:
        data = await params.body(request)
    name = params.text(data.get("display_name"))
    if name is not None and len(name) > 30:
        raise UnprocessableEntity("Validation failed: Display name is too long (maximum is 30 characters)")
    note = params.text(data.get("note"))
    if note is not None and len(note) > 500:
        raise UnprocessableEntity("Validation failed: Note is too long (maximum is 500 characters)")
    locked = params.flag(data["locked"], "locked") if "locked" in data else None
    discoverable = params.flag(data["discoverable"], "discoverable") if "discoverable" in data else None
    bot = params.flag(data["bot"], "bot") if "bot" in data else None
    source = data.get("source") if isinstance(data.get("source"), dict) else {}
    privacy = params.text(source.get("privacy", data.get("source[privacy]")))
    if privacy is not None and privacy not in POSTING_VISIBILITIES:
        raise UnprocessableEntity("Validation failed: source[privacy] must be public, unlisted or private")
    sensitive = source.get("sensitive", data.get("source[sensitive]"))
    quote_policy = params.text(source.get("quote_policy", data.get("source[quote_policy]")))
    if quote_policy is not None and quote_policy not in quotes.POLICIES:
        raise UnprocessableEntity(
            "Validation failed: source[quote_policy] must be public, followers or nobody"
        )
    language = params.text(source.get("language", data.get("source[language]")))
    if language and (len(language) > 16 or not all(c.isalnum() or c == "-" for c in language)):
        raise UnprocessableEntity("Validation failed: source[language] is not a language code")
    try:
        updated = await actions.update_profile(
            ctx,
            viewer,
            display_name=name,
            bio=note,
            locked=locked,
            discoverable=discoverable,
            bot=bot,
            avatar=files.get("avatar") or None,
            header=files.get("header") or None,
        )
    except MediaRejected as exc:
        raise UnprocessableEntity(str(exc)) from None
    if quote_policy is not None:
        await quotes.set_default_policy(ctx, viewer, quote_policy)
    user = await set_posting_defaults(
        ctx.db,
        viewer,
        visibility=POSTING_VISIBILITIES.get(privacy) if privacy else None,
        sensitive=params.flag(sensitive, "source[sensitive]") if sensitive is not None else None,
        language=language,
    )
    async with ctx.db.read() as session:
        return json_response(await _credential_json(session, updated, ctx.urls, user))
