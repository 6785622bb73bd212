"""The moderation pages: open (and resolved) reports, a report with the reported posts, resolving
it with a note, silencing or suspending its target, and the log of what moderators did.

For moderators and admins only (`User.role`); anyone else gets 404, as if the pages did not
exist. Every action calls `outbox/moderation.py`, which checks the role again and logs it.
"""

from aiohttp import web
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from outbox import moderation
from spark_fed.errors import NotFound, UnprocessableEntity, UsageError
from spark_fed.http.ids import INT32, path_id
from spark_fed.models import Account, ModerationAction, Report, Status
from spark_fed.queries import moderation as moderation_queries
from spark_fed.queries.views import accounts_by_id
from spark_fed.state import CONTEXT

from ..auth import Viewer, form_of, require_viewer
from ..render import page
from .actions import _account, _text
from .paging import PAGE_SIZE, max_id, next_page
from .signin import safe_next

routes = web.RouteTableDef()
LOG_SHOWN = 20
MAX_NOTE = 5000
CATEGORY_NAMES = {
    "spam": "Spam",
    "legal": "Illegal content",
    "violation": "Breaks a rule",
    "other": "Something else",
}
ACTION_NAMES = {
    "silence": "limited",
    "unsilence": "lifted the limit on",
    "suspend": "suspended",
    "unsuspend": "lifted the suspension of",
    "resolve_report": "resolved a report about",
    "reopen_report": "reopened a report",
    "unblock_domain": "unblocked the server",
}


async def _moderator(request: web.Request, who: Viewer) -> None:
    if not await moderation.is_moderator(request.app[CONTEXT], who.account):
        raise NotFound("no such page")


def _report_id(request: web.Request) -> int:
    return path_id(request, "report_id", "no such report", INT32)


def _rules(request: web.Request) -> dict[int, str]:
    rules = getattr(request.app[CONTEXT].config.instance, "rules", None) or []
    return {n: str(text) for n, text in enumerate(rules, start=1)}


def _rule_texts(report: Report, rules: dict[int, str]) -> list[str]:
    ids = [int(r) for r in report.rule_ids.split(",") if r.strip().isdigit()]
    return [rules.get(r, f"Rule {r}") for r in ids]


async def _log(request: web.Request, rows: list[ModerationAction]) -> list[dict]:
    """The log's entries with the accounts they name."""
    async with request.app[CONTEXT].db.read() as session:
        ids = {r.moderator_id for r in rows if r.moderator_id} | {
            r.target_account_id for r in rows if r.target_account_id
        }
        accounts = await accounts_by_id(session, ids)
    return [
        {
            "row": r,
            "moderator": accounts.get(r.moderator_id or 0),
            "target": accounts.get(r.target_account_id or 0),
            "verb": _verb(r.action),
        }
        for r in rows
    ]


def _verb(action: str) -> str:
    if action.startswith("block_domain:"):
        return f"blocked the server ({action.split(':', 1)[1]})"
    if action.startswith("set_role:"):
        return f"made {action.split(':', 1)[1]}"
    return ACTION_NAMES.get(action, action.replace("_", " "))


@routes.get("/admin/reports")
async def reports(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    await _moderator(request, who)
    resolved = request.query.get("resolved") == "1"
    rules = _rules(request)
    async with request.app[CONTEXT].db.read() as session:
        rows = await moderation_queries.list_reports(
            session, resolved=resolved, limit=PAGE_SIZE, max_id=max_id(request)
        )
        accounts = await accounts_by_id(
            session, {r.account_id for r in rows} | {r.target_account_id for r in rows}
        )
        wanted = {i for r in rows for i in moderation_queries.status_ids_of(r)}
        statuses = await _statuses(session, wanted)
        log = await moderation_queries.moderation_log(session)
    entries = [
        {
            "report": r,
            "reporter": accounts.get(r.account_id),
            "target": accounts.get(r.target_account_id),
            "statuses": [statuses[i] for i in moderation_queries.status_ids_of(r) if i in statuses],
            "rules": _rule_texts(r, rules),
        }
        for r in rows
    ]
    context = {
        "entries": entries,
        "resolved": resolved,
        "more": next_page(request, [r.id for r in rows]),
        "log": await _log(request, log[:LOG_SHOWN]),
        "categories": CATEGORY_NAMES,
        "notice": {"resolved": "Report resolved."}.get(request.query.get("done", ""), ""),
    }
    return await page(request, "admin_reports.html", who, context)


async def _statuses(session: AsyncSession, ids: set[int]) -> dict[int, Status]:
    if not ids:
        return {}
    rows = await session.exec(select(Status).where(col(Status.id).in_(ids)))
    return {s.id: s for s in rows.all()}


@routes.get("/admin/reports/{report_id}")
async def report(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    await _moderator(request, who)
    async with request.app[CONTEXT].db.read() as session:
        details = await moderation_queries.report_details(session, _report_id(request))
        if details is None:
            raise NotFound("no such report")
        log = await moderation_queries.moderation_log(session, details.report.target_account_id)
    context = {
        "details": details,
        "rules": _rule_texts(details.report, _rules(request)),
        "categories": CATEGORY_NAMES,
        "log": await _log(request, log[:LOG_SHOWN]),
        "max_note": MAX_NOTE,
        "notice": {
            "silence": "The account is limited.",
            "unsilence": "The limit is lifted.",
            "suspend": "The account is suspended.",
            "unsuspend": "The suspension is lifted.",
        }.get(request.query.get("done", ""), ""),
    }
    return await page(request, "admin_report.html", who, context)


@routes.post("/admin/reports/{report_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    who, form = await form_of(request)
    await _moderator(request, who)
    note = _text(form, "note")
    if len(note) > MAX_NOTE:
        raise UnprocessableEntity(f"a note has at most {MAX_NOTE} characters")
    try:
        await moderation.resolve_report(request.app[CONTEXT], who.account, _report_id(request), note)
    except UsageError as exc:
        raise UnprocessableEntity(str(exc)) from None
    raise web.HTTPSeeOther("/admin/reports?done=resolved")


def _account_action(name: str):
    service = getattr(moderation, name)

    async def handler(request: web.Request) -> web.Response:
        who, form = await form_of(request)
        await _moderator(request, who)
        target: Account = await _account(request)
        raw = _text(form, "report_id")
        report_id = int(raw) if raw.isdigit() and len(raw) <= 10 else None
        try:
            await service(
                request.app[CONTEXT], who.account, target, reason=_text(form, "reason"), report_id=report_id
            )
        except UsageError as exc:
            raise UnprocessableEntity(str(exc)) from None
        back = safe_next(form.get("next") or "/admin/reports")
        raise web.HTTPSeeOther(f"{back}{'&' if '?' in back else '?'}done={name}")

    return handler


for _name in ("silence", "unsilence", "suspend", "unsuspend"):
    routes.post(f"/admin/accounts/{{account_id}}/{_name}")(_account_action(_name))
