"""What a person does about other accounts from the pages: block, mute, report, block a whole
server, muted words; and the settings pages that list them, each with its undo.

Blocking and muting go through a confirmation page (what happens, and for a mute how long and
whether notifications go too); undoing is one press. Every form posts through `form_of` and calls
`outbox/safety.py` or `spark_fed/filters.py`, the services the commands and the API call.
"""

from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web

from outbox import safety
from spark_fed import filters as muted_words
from spark_fed.errors import UnprocessableEntity, UsageError
from spark_fed.http.ids import INT32, path_id
from spark_fed.models import Account, ReportCategory, Status
from spark_fed.models.safety import FILTER_CONTEXTS
from spark_fed.queries import safety as safety_queries
from spark_fed.queries.timelines import account_posts, visible_status
from spark_fed.state import CONTEXT

from ..auth import form_of, require_viewer
from ..render import page
from .actions import _account, _text
from .paging import PAGE_SIZE, max_id, next_page
from .signin import safe_next

routes = web.RouteTableDef()

# How long a mute lasts, as the mute page offers it (seconds; 0: until undone).
MUTE_DURATIONS = (
    (0, "Until I unmute"),
    (3600, "1 hour"),
    (6 * 3600, "6 hours"),
    (86400, "1 day"),
    (3 * 86400, "3 days"),
    (7 * 86400, "7 days"),
)
# When a muted word stops applying (seconds; 0: never).
FILTER_EXPIRIES = (
    (0, "Never"),
    (1800, "30 minutes"),
    (3600, "1 hour"),
    (6 * 3600, "6 hours"),
    (12 * 3600, "12 hours"),
    (86400, "1 day"),
    (7 * 86400, "1 week"),
)
CONTEXT_NAMES = {
    "home": "Home timeline",
    "notifications": "Notifications",
    "public": "Explore and tags",
    "thread": "Conversations",
    "account": "Profiles",
}
CATEGORIES = (
    (ReportCategory.SPAM.value, "Spam", "Unwanted links, fake engagement or repeated replies"),
    (ReportCategory.LEGAL.value, "Illegal content", "It is against the law where you or this server are"),
    (ReportCategory.VIOLATION.value, "Breaks a rule", "It breaks one or more of this server's rules"),
    (ReportCategory.OTHER.value, "Something else", "None of the above"),
)
MAX_COMMENT = 1000
REPORTABLE_POSTS = 20
SAFETY_PAGES = (
    ("/settings/blocks", "Blocked accounts"),
    ("/settings/mutes", "Muted accounts"),
    ("/settings/domains", "Blocked servers"),
    ("/settings/filters", "Muted words"),
)


def _next(request: web.Request, fallback: str = "/") -> str:
    return safe_next(request.query.get("next") or fallback)


async def _run(call) -> None:
    try:
        await call
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None


# --- block and mute ----------------------------------------------------------------------------


@routes.get("/web/accounts/{account_id}/block")
async def block_page(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    target = await _account(request)
    context = {"target": target, "next": _next(request)}
    return await page(request, "block.html", who, context)


@routes.post("/web/accounts/{account_id}/block")
async def block(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    target = await _account(request)
    await _run(safety.block(request.app[CONTEXT], who.account, target.uri))
    raise web.HTTPSeeOther(safe_next(form.get("next")))


@routes.post("/web/accounts/{account_id}/unblock")
async def unblock(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    target = await _account(request)
    await _run(safety.unblock(request.app[CONTEXT], who.account, target.uri))
    raise web.HTTPSeeOther(safe_next(form.get("next")))


@routes.get("/web/accounts/{account_id}/mute")
async def mute_page(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    target = await _account(request)
    context = {"target": target, "next": _next(request), "durations": MUTE_DURATIONS}
    return await page(request, "mute.html", who, context)


@routes.post("/web/accounts/{account_id}/mute")
async def mute(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    target = await _account(request)
    seconds = _text(form, "duration")
    allowed = {str(s) for s, _label in MUTE_DURATIONS}
    if seconds and seconds not in allowed:
        raise UnprocessableEntity("choose one of the durations offered")
    duration = timedelta(seconds=int(seconds)) if seconds and seconds != "0" else None
    await _run(
        safety.mute(
            request.app[CONTEXT],
            who.account,
            target.uri,
            notifications=form.get("notifications") == "on",
            duration=duration,
        )
    )
    raise web.HTTPSeeOther(safe_next(form.get("next")))


@routes.post("/web/accounts/{account_id}/unmute")
async def unmute(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    target = await _account(request)
    await _run(safety.unmute(request.app[CONTEXT], who.account, target.uri))
    raise web.HTTPSeeOther(safe_next(form.get("next")))


@routes.post("/web/domains/block")
async def block_domain(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    domain = _text(form, "domain")
    if not domain:
        raise UnprocessableEntity("write the server's domain, such as example.social")
    await _run(safety.block_domain(request.app[CONTEXT], who.account, domain))
    raise web.HTTPSeeOther(safe_next(form.get("next") or "/settings/domains"))


@routes.post("/web/domains/unblock")
async def unblock_domain(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    await _run(safety.unblock_domain(request.app[CONTEXT], who.account, _text(form, "domain")))
    raise web.HTTPSeeOther(safe_next(form.get("next") or "/settings/domains"))


# --- reports -----------------------------------------------------------------------------------


async def _reportable(
    request: web.Request, viewer: Account, target: Account, chosen: int | None
) -> list[Status]:
    """The account's recent posts the reporter may see (not reposts), the one reported from first."""
    async with request.app[CONTEXT].db.read() as session:
        rows = await account_posts(session, viewer, target, limit=REPORTABLE_POSTS, replies=True)
        shown = [r for r in rows if r.reblog_of_id is None]
        if chosen is not None and all(r.id != chosen for r in shown):
            found = await visible_status(session, viewer, chosen)
            if found is not None and found.account_id == target.id and found.reblog_of_id is None:
                shown.insert(0, found)
    return shown


def _rules(request: web.Request) -> list[tuple[int, str]]:
    """The instance's rules with their ids (1, 2, ...: their place in `[instance] rules`)."""
    rules = getattr(request.app[CONTEXT].config.instance, "rules", None) or []
    return [(n, str(text)) for n, text in enumerate(rules, start=1)]


@routes.get("/web/accounts/{account_id}/report")
async def report_page(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    target = await _account(request)
    raw = request.query.get("status", "")
    chosen = int(raw) if raw.isdigit() and len(raw) < 20 else None
    context = {
        "target": target,
        "posts": await _reportable(request, who.account, target, chosen),
        "chosen": chosen,
        "categories": CATEGORIES,
        "rules": _rules(request),
        "next": _next(request),
        "max_comment": MAX_COMMENT,
    }
    return await page(request, "report.html", who, context)


@routes.post("/web/accounts/{account_id}/report")
async def report(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    target = await _account(request)
    category = _text(form, "category") or ReportCategory.OTHER.value
    comment = _text(form, "comment")
    if len(comment) > MAX_COMMENT:
        raise UnprocessableEntity(f"a comment has at most {MAX_COMMENT} characters")
    known_rules = {n for n, _text_ in _rules(request)}
    rule_ids = [int(r) for r in form.getall("rule", []) if isinstance(r, str) and r.isdigit()]
    if any(r not in known_rules for r in rule_ids):
        raise UnprocessableEntity("choose among this server's rules")
    if category != ReportCategory.VIOLATION.value:
        rule_ids = []
    picked = {int(s) for s in form.getall("status", []) if isinstance(s, str) and s.isdigit() and len(s) < 20}
    offered = {s.id: s for s in await _reportable(request, who.account, target, None)}
    async with request.app[CONTEXT].db.read() as session:
        for status_id in picked - offered.keys():
            found = await visible_status(session, who.account, status_id)
            if found is not None:
                offered[found.id] = found
    urls = [offered[s].uri for s in sorted(picked) if s in offered]
    await _run(
        safety.report(
            request.app[CONTEXT],
            who.account,
            target.uri,
            status_urls=urls,
            category=category,
            comment=comment,
            rule_ids=rule_ids,
            forward=form.get("forward") == "on" and not target.is_local,
        )
    )
    context = {
        "target": target,
        "next": safe_next(form.get("next")),
        "forwarded": form.get("forward") == "on",
    }
    async with request.app[CONTEXT].db.read() as session:
        found = await safety_queries.relations(session, who.account.id, [target])
    context["relation"] = found.get(target.id)
    return await page(request, "reported.html", who, context)


# --- the settings pages --------------------------------------------------------------------------


async def _list_page(request: web.Request, template: str, context: dict, status: int = 200) -> web.Response:
    who = await require_viewer(request)
    values = {"safety_pages": SAFETY_PAGES, **context}
    return await page(request, template, who, values, status=status)


async def _listing(request: web.Request, lister, template: str, row_id) -> web.Response:
    """A page of one of the viewer's lists (LISTER from spark_fed.queries.safety), cursor-paged."""
    who = await require_viewer(request)
    async with request.app[CONTEXT].db.read() as session:
        rows = await lister(session, who.account.id, limit=PAGE_SIZE, max_id=max_id(request))
    context = {"rows": rows, "more": next_page(request, [row_id(r) for r in rows])}
    return await _list_page(request, template, context)


@routes.get("/settings/blocks")
async def blocks_page(request: web.Request) -> web.Response:
    return await _listing(request, safety_queries.list_blocks, "settings_blocks.html", lambda r: r[0].id)


@routes.get("/settings/mutes")
async def mutes_page(request: web.Request) -> web.Response:
    return await _listing(request, safety_queries.list_mutes, "settings_mutes.html", lambda r: r[0].id)


@routes.get("/settings/domains")
async def domains_page(request: web.Request) -> web.Response:
    return await _listing(request, safety_queries.list_domain_blocks, "settings_domains.html", lambda r: r.id)


async def _filters_page(request: web.Request, *, problem: str = "", status: int = 200) -> web.Response:
    who = await require_viewer(request)
    async with request.app[CONTEXT].db.read() as session:
        rows = await muted_words.list_filters(session, who.account.id)
    context = {
        "filters": [
            (f, words, [CONTEXT_NAMES.get(c, c) for c in muted_words.contexts_of(f)], muted_words.is_live(f))
            for f, words in rows
        ],
        "contexts": [(c, CONTEXT_NAMES.get(c, c)) for c in FILTER_CONTEXTS],
        "expiries": FILTER_EXPIRIES,
        "problem": problem,
        "notice": {"added": "Muted word saved.", "deleted": "Muted word deleted."}.get(
            request.query.get("done", ""), ""
        ),
    }
    return await _list_page(request, "settings_filters.html", context, status=status)


@routes.get("/settings/filters")
async def filters_page(request: web.Request) -> web.Response:
    return await _filters_page(request)


@routes.post("/settings/filters")
async def create_filter(request: web.Request) -> web.Response:
    """Title, up to five keyword rows (each with its "whole word" box), contexts, action, expiry."""
    who, form = await form_of(request)
    keywords: list[tuple[str, bool]] = []
    for n, word in enumerate(form.getall("keyword", [])):
        text = word.strip() if isinstance(word, str) else ""
        if text:
            keywords.append((text, form.get(f"whole_word_{n}") == "on"))
    expiry = _text(form, "expires_in")
    if expiry and expiry not in {str(s) for s, _label in FILTER_EXPIRIES}:
        raise UnprocessableEntity("choose one of the expiries offered")
    if not keywords:
        return await _filters_page(request, problem="Add at least one word or phrase to mute.", status=422)
    try:
        await muted_words.create_filter(
            request.app[CONTEXT].db,
            who.account,
            title=_text(form, "title") or keywords[0][0],
            contexts=[c for c in form.getall("context", []) if isinstance(c, str)],
            action=_text(form, "action") or "warn",
            keywords=keywords,
            expires_in=int(expiry) if expiry and expiry != "0" else None,
        )
    except UsageError as exc:
        return await _filters_page(request, problem=f"{exc}.", status=422)
    raise web.HTTPSeeOther("/settings/filters?" + urlencode({"done": "added"}))


@routes.post("/settings/filters/{filter_id}/delete")
async def delete_filter(request: web.Request) -> web.Response:
    who, _form = await form_of(request)
    filter_id = path_id(request, "filter_id", "no such muted word", INT32)
    await muted_words.delete_filter(request.app[CONTEXT].db, who.account, filter_id)
    raise web.HTTPSeeOther("/settings/filters?done=deleted")
