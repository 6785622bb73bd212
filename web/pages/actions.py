"""What the buttons and forms do: each calls the same service the commands and the API call.

Every handler reads its form through `form_of` (same origin, CSRF token) and
answers 303 back to the page it came from; a script that asked for JSON
(`Accept: application/json`) gets the button's new state instead, so that a
like or a follow needs no reload.
"""

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from outbox import actions, interactions, posts, scheduled
from outbox.scheduled import Draft
from spark_fed.context import Context
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http.ids import INT32, path_id
from spark_fed.media.processing import MediaRejected
from spark_fed.media.service import MAX_ATTACHMENTS, MAX_DESCRIPTION
from spark_fed.models import Account, MediaAttachment, Status
from spark_fed.queries.timelines import visible_status
from spark_fed.state import CONTEXT

from ..auth import Upload, Viewer, form_of, require_viewer, upload_form_of
from ..names import thread_path
from ..posts import views_of
from ..render import page
from .polls import poll_from_form
from .scheduled import composer_time
from .signin import safe_next

routes = web.RouteTableDef()
VISIBILITIES = ("public", "unlisted", "followers", "direct")


def post_id(request: web.Request) -> int:
    return path_id(request, "id", "no such post")


async def _status(request: web.Request, who: Viewer) -> Status:
    async with request.app[CONTEXT].db.read() as session:
        status = await visible_status(session, who.account, post_id(request))
    if status is None:
        raise NotFound("no such post")
    return status


async def _own_status(request: web.Request, who: Viewer) -> Status:
    status = await _status(request, who)
    if status.account_id != who.account.id or status.reblog_of_id is not None:
        raise NotFound("no such post of yours")
    return status


def _back(request: web.Request, form: Mapping[str, object], state: dict[str, object]) -> web.Response:
    if "application/json" in request.headers.get("Accept", ""):
        return web.json_response(state)
    raise web.HTTPSeeOther(safe_next(form.get("next")))


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


@routes.post("/web/statuses")
async def create(request: web.Request) -> web.Response:
    """The composer: text, options and up to four images, each with its description; with a
    time to publish at (its Schedule field), the post is scheduled instead (`outbox.scheduled`).

    The images are checked and stored (`ctx.media.upload`) before the post is written; a refused
    one answers 422 with the reason and nothing is posted (what was stored of the others is
    unattached, and cleaned up within a day like any upload no post took).
    """
    ctx = request.app[CONTEXT]
    who, upload = await upload_form_of(
        request, files={"image": MAX_ATTACHMENTS}, max_file_bytes=ctx.config.media.max_upload_bytes
    )
    form = upload.fields
    text, visibility = _text(form, "text"), _text(form, "visibility") or "public"
    images = upload.files_named("image")
    descriptions = [d.strip() for d in form.getall("description", [])]
    quoted = await _quoted(ctx, who, form)
    if not text and not images and quoted is None:
        raise UnprocessableEntity("a post needs some text or an image")
    if visibility not in VISIBILITIES:
        raise UnprocessableEntity(f"visibility must be one of {', '.join(VISIBILITIES)}")
    if any(len(d) > MAX_DESCRIPTION for d in descriptions):
        raise UnprocessableEntity(f"an image description has at most {MAX_DESCRIPTION} characters")
    parent = None
    if _text(form, "in_reply_to").isdigit():
        async with ctx.db.read() as session:
            parent = await visible_status(session, who.account, int(_text(form, "in_reply_to")))
        if parent is None:
            raise NotFound("the post you reply to is gone")
    uploaded: list[MediaAttachment] = []
    try:
        for n, image in enumerate(images):
            description = descriptions[n] if n < len(descriptions) else ""
            try:
                uploaded.append(await ctx.media.upload(who.account, image.data, description=description))
            except MediaRejected as exc:
                raise UnprocessableEntity(
                    f"{_image_name(image, n, len(images))} was refused: {exc}"
                ) from None
        poll = poll_from_form(form, form.getall("poll_option", []))
        if when := _text(form, "scheduled_at"):
            if quoted is not None:
                raise UsageError("a quote cannot be scheduled")
            draft = Draft.with_poll(
                poll,
                text=text,
                visibility=visibility,
                spoiler_text=_text(form, "cw") or None,
                sensitive=_text(form, "sensitive") == "on",
                in_reply_to_id=parent.id if parent else None,
                media_ids=[m.id for m in uploaded],
            )
            at = composer_time(when, _text(form, "tz_offset"))
            await scheduled.schedule(ctx, who.account, draft, at)
        else:
            await posts.post(
                ctx,
                who.account,
                text,
                visibility=visibility,
                reply_to=parent.uri if parent else None,
                cw=_text(form, "cw") or None,
                media_ids=[m.id for m in uploaded],
                sensitive=_text(form, "sensitive") == "on",
                poll=poll,
                quote=quoted,
                quote_policy=_text(form, "quote_policy") or None,
            )
    except UsageError as exc:
        await ctx.media.discard(uploaded)
        raise UnprocessableEntity(str(exc)) from None
    except BaseException:
        await ctx.media.discard(uploaded)
        raise
    if when:
        raise web.HTTPSeeOther("/web/scheduled")
    if parent is None:
        raise web.HTTPSeeOther("/")
    async with ctx.db.read() as session:
        author = await session.get(Account, parent.account_id)
    raise web.HTTPSeeOther(thread_path(author, parent.id))


async def _quoted(ctx: Context, who: Viewer, form: Mapping[str, object]) -> Status | None:
    """The post the composer quotes (`quote_of`), if any, as the poster may see it."""
    if not _text(form, "quote_of"):
        return None
    if not _text(form, "quote_of").isdigit():
        raise UnprocessableEntity("quote_of must be the id of a post")
    async with ctx.db.read() as session:
        quoted = await visible_status(session, who.account, int(_text(form, "quote_of")))
    if quoted is None:
        raise NotFound("the post you quote is gone")
    return quoted


def _image_name(image: Upload, n: int, of: int) -> str:
    """How the 422 names a refused image: its file name, else its place ("image 2")."""
    name = image.filename.replace("\\", "/").rsplit("/", 1)[-1][:80]
    if name:
        return f"the image {name}"
    return "the image" if of == 1 else f"image {n + 1}"


Service = Callable[[Context, Account, str], Awaitable[object]]


def _toggle(service: Service, field: str, on: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A like/unlike/repost/undo handler: the service, then the note's fresh count."""

    async def handler(request: web.Request) -> web.Response:
        who, form = await form_of(request)
        status = await _status(request, who)
        ctx = request.app[CONTEXT]
        try:
            await service(ctx, who.account, status.uri)
        except UsageError as exc:
            raise UnprocessableEntity(str(exc)) from None
        async with ctx.db.read() as session:
            fresh = await session.get(Status, status.id)
        return _back(request, form, {"pressed": on, "count": getattr(fresh, field, 0)})

    return handler


routes.post("/web/statuses/{id}/like")(_toggle(interactions.like, "favourites_count", True))
routes.post("/web/statuses/{id}/unlike")(_toggle(interactions.unlike, "favourites_count", False))
routes.post("/web/statuses/{id}/repost")(_toggle(interactions.boost, "reblogs_count", True))
routes.post("/web/statuses/{id}/unrepost")(_toggle(interactions.unboost, "reblogs_count", False))


@routes.get("/web/statuses/{id}/edit")
async def edit_page(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    status = await _own_status(request, who)
    return await page(request, "edit.html", who, {"status": status})


@routes.post("/web/statuses/{id}/edit")
async def edit(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    status = await _own_status(request, who)
    text = _text(form, "text")
    if not text:
        raise UnprocessableEntity("a post needs some text")
    try:
        await posts.edit(request.app[CONTEXT], who.account, status.uri, text)
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None
    raise web.HTTPSeeOther(thread_path(who.account, status.id))


@routes.get("/web/statuses/{id}/delete")
async def delete_page(request: web.Request) -> web.Response:
    """The confirmation: deleting takes a second, deliberate press."""
    who = await require_viewer(request)
    status = await _own_status(request, who)
    async with request.app[CONTEXT].db.read() as session:
        [view] = await views_of(session, who.account, [status])
    return await page(request, "delete.html", who, {"view": view})


@routes.post("/web/statuses/{id}/delete")
async def delete(request: web.Request) -> web.Response:
    who, _form = await form_of(request)
    status = await _own_status(request, who)
    await posts.delete(request.app[CONTEXT], who.account, status.uri)
    raise web.HTTPSeeOther("/")


async def _account(request: web.Request) -> Account:
    account_id = path_id(request, "account_id", "no such account", INT32)
    async with request.app[CONTEXT].db.read() as session:
        account = await session.get(Account, account_id)
    if account is None or account.is_instance_actor:
        raise NotFound("no such account")
    return account


@routes.post("/web/accounts/{account_id}/follow")
async def follow(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    target = await _account(request)
    if target.id == who.account.id:
        raise UnprocessableEntity("you cannot follow yourself")
    result = await actions.follow(request.app[CONTEXT], who.account, target.uri)
    return _back(request, form, {"state": result.follow.state})


@routes.post("/web/accounts/{account_id}/unfollow")
async def unfollow(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    target = await _account(request)
    try:
        await actions.unfollow(request.app[CONTEXT], who.account, target.uri)
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None
    return _back(request, form, {"state": None})


def _answer(accept: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        who, form = await form_of(request)
        follower = await _account(request)
        try:
            await actions.answer_follow_request(
                request.app[CONTEXT], who.account, follower.uri, accept=accept
            )
        except UsageError as exc:
            raise UnprocessableEntity(str(exc)) from None
        return _back(request, form, {"accepted": accept})

    return handler


routes.post("/web/follow_requests/{account_id}/accept")(_answer(True))
routes.post("/web/follow_requests/{account_id}/reject")(_answer(False))
