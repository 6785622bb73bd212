"""Settings: the profile (name, bio, lock), the password, and the browsers signed in."""

from aiohttp import web

from outbox import actions
from spark_fed import browser_sessions
from spark_fed.accounts import set_password_hash
from spark_fed.content import plain_text
from spark_fed.errors import NotFound
from spark_fed.models import User
from spark_fed.passwords import WeakPassword, hash_password, verify_password
from spark_fed.state import CONTEXT

from ..auth import Viewer, form_of, require_viewer
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
    }
    return await page(request, "settings.html", who, context, status=status)


@routes.get("/settings")
async def settings(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    notice = {"profile": "Profile saved.", "password": "Password changed: other browsers are signed out.",
              "session": "That browser is signed out."}.get(request.query.get("done", ""), "")  # fmt: skip
    return await _settings_page(request, who, notice=notice)


@routes.post("/settings/profile")
async def save_profile(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    name = str(form.get("display_name", "")).strip()
    bio = str(form.get("bio", "")).strip()
    if len(name) > MAX_NAME or len(bio) > MAX_BIO:
        problem = f"A display name has at most {MAX_NAME} characters and a bio at most {MAX_BIO}."
        return await _settings_page(request, who, problem=problem, status=422)
    await actions.update_profile(
        request.app[CONTEXT], who.account, display_name=name, bio=bio, locked=form.get("locked") == "on"
    )
    raise web.HTTPSeeOther("/settings?done=profile")


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
    raw = request.match_info["session_id"]
    if not raw.isdigit() or not await browser_sessions.end(request.app[CONTEXT].db, who.account.id, int(raw)):
        raise NotFound("no such session")
    if int(raw) == who.session_id:
        raise web.HTTPSeeOther("/")
    raise web.HTTPSeeOther("/settings?done=session")
