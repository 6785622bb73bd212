"""Settings: the profile (name, bio, lock, avatar and header), the password, and the browsers signed in."""

from aiohttp import web

from outbox import actions, quotes
from spark_fed import browser_sessions
from spark_fed.accounts import set_password_hash
from spark_fed.content import plain_text
from spark_fed.errors import NotFound, UsageError
from spark_fed.http.ids import INT32, path_id
from spark_fed.media.processing import MediaRejected
from spark_fed.models import User
from spark_fed.models.media import MediaKind
from spark_fed.passwords import WeakPassword, hash_password, verify_password
from spark_fed.state import CONTEXT

from ..auth import Viewer, form_of, require_viewer, upload_form_of
from ..render import page

routes = web.RouteTableDef()
MAX_NAME = 30
MAX_BIO = 500


async def _settings_page(
    request: web.Request, who: Viewer, *, notice: str = "", problem: str = "", status: int = 200
) -> web.Response:
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        account = await session.get(type(who.account), who.account.id)
    sessions = await browser_sessions.list_for(ctx.db, who.account.id)
    context = {
        "account": account,
        "bio": plain_text(account.summary),
        "sessions": sessions,
        "current_session": who.session_id,
        "notice": notice,
        "problem": problem,
        "quote_policy": await quotes.default_policy(ctx, who.account),
    }
    return await page(request, "settings.html", who, context, status=status)


@routes.get("/settings")
async def settings(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    notice = {"profile": "Profile saved.", "password": "Password changed: other browsers are signed out.",
              "session": "That browser is signed out.",
              "quotes": "Quote setting saved."}.get(request.query.get("done", ""), "")  # fmt: skip
    return await _settings_page(request, who, notice=notice)


@routes.post("/settings/profile")
async def save_profile(request: web.Request) -> web.Response:
    """Name, bio, lock, and a new avatar or header when one is chosen; followers get Update(Person)."""
    ctx = request.app[CONTEXT]
    who, upload = await upload_form_of(
        request, files={"avatar": 1, "header": 1}, max_file_bytes=ctx.config.media.max_upload_bytes
    )
    form = upload.fields
    name = str(form.get("display_name", "")).strip()
    bio = str(form.get("bio", "")).strip()
    if len(name) > MAX_NAME or len(bio) > MAX_BIO:
        problem = f"A display name has at most {MAX_NAME} characters and a bio at most {MAX_BIO}."
        return await _settings_page(request, who, problem=problem, status=422)
    changed = False
    for kind in (MediaKind.AVATAR, MediaKind.HEADER):
        for image in upload.files_named(kind):
            try:
                await ctx.media.upload(who.account, image.data, kind=kind)
            except (MediaRejected, UsageError) as exc:
                if changed:  # the avatar went in before the header was refused: say so to followers
                    await actions.update_profile(ctx, who.account)
                problem = f"The {kind} was refused: {exc}."
                return await _settings_page(request, who, problem=problem, status=422)
            changed = True
    await actions.update_profile(
        ctx, who.account, display_name=name, bio=bio, locked=form.get("locked") == "on"
    )
    raise web.HTTPSeeOther("/settings?done=profile")


@routes.post("/settings/quotes")
async def save_quote_policy(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    policy = form.get("quote_policy", "")
    try:
        await quotes.set_default_policy(request.app[CONTEXT], who.account, str(policy))
    except UsageError as exc:
        return await _settings_page(request, who, problem=str(exc), status=422)
    raise web.HTTPSeeOther("/settings?done=quotes")


@routes.post("/settings/password")
async def change_password(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        user = await session.get(User, who.account.id)
    current = str(form.get("current_password", ""))
    if not await verify_password(ctx.config.auth, user.password_hash if user else None, current):
        return await _settings_page(request, who, problem="The current password is wrong.", status=422)
    try:
        new_hash = await hash_password(ctx.config.auth, str(form.get("new_password", "")))
    except WeakPassword as exc:
        return await _settings_page(request, who, problem=f"The new password is too weak: {exc}.", status=422)
    await set_password_hash(ctx.db, who.account, new_hash, keep_session=who.session_id)
    raise web.HTTPSeeOther("/settings?done=password")


@routes.post("/settings/sessions/{session_id}/end")
async def end_session(request: web.Request) -> web.Response:
    who, _form = await form_of(request)
    session_id = path_id(request, "session_id", "no such session", INT32)
    if not await browser_sessions.end(request.app[CONTEXT].db, who.account.id, session_id):
        raise NotFound("no such session")
    if session_id == who.session_id:
        raise web.HTTPSeeOther("/")
    raise web.HTTPSeeOther("/settings?done=session")
