"""Reports: `POST /api/v1/reports`, through `outbox.safety.report`."""

from typing import Any

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from outbox import safety
from spark_fed.errors import UnprocessableEntity, UsageError
from spark_fed.http.responses import json_response
from spark_fed.models import Account, Report
from spark_fed.queries.timelines import visible_status
from spark_fed.state import CONTEXT
from spark_fed.urls import Urls

from . import params
from .auth import require
from .entities import iso
from .lookup import account_or_404
from .presenters import account_json

routes = web.RouteTableDef()

MAX_STATUSES = 100
MAX_RULES = 100


def _list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ids(value: object, name: str, most: int) -> list[int]:
    values = [v for v in _list(value) if not (isinstance(v, str) and not v.strip())]
    if any(isinstance(v, bool) or not params.is_id(str(v).strip()) for v in values):
        raise UnprocessableEntity(f"Validation failed: {name} must be ids")
    if len(values) > most:
        raise UnprocessableEntity(f"Validation failed: at most {most} {name}")
    return list(dict.fromkeys(int(str(v).strip()) for v in values))


async def report_json(session: AsyncSession, report: Report, target: Account, urls: Urls) -> dict[str, Any]:
    """Mastodon's Report, as the reporter sees it."""
    status_ids = [s for s in report.status_ids.split(",") if s]
    rule_ids = [r for r in report.rule_ids.split(",") if r]
    return {
        "id": str(report.id),
        "action_taken": report.resolved_at is not None,
        "action_taken_at": iso(report.resolved_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "status_ids": status_ids or None,
        "rule_ids": rule_ids or None,
        "target_account": await account_json(session, target, urls),
    }


@routes.post("/api/v1/reports/")  # Mastodon.py posts here, with the slash
@routes.post("/api/v1/reports")
async def create(request: web.Request) -> web.Response:
    viewer = await require(request, "write:reports")
    ctx = request.app[CONTEXT]
    data = await params.body(request)
    raw_account = data.get("account_id")
    if isinstance(raw_account, bool) or not params.is_id(str(raw_account if raw_account is not None else "")):
        raise UnprocessableEntity("Validation failed: account_id must be an account's id")
    status_ids = _ids(data.get("status_ids"), "status_ids", MAX_STATUSES)
    rule_ids = _ids(data.get("rule_ids"), "rule_ids", MAX_RULES)
    comment = params.text(data.get("comment")) or ""
    category = params.text(data.get("category")) or ("violation" if rule_ids else "other")
    forward = params.flag(data.get("forward"), "forward")
    known_rules = len(ctx.config.instance.rules)  # ids "1".."n", as /api/v1/instance/rules lists them
    if any(not 1 <= r <= known_rules for r in rule_ids):
        raise UnprocessableEntity("Validation failed: rule_ids must be ids of the instance's rules")
    account_id = int(str(raw_account))
    async with ctx.db.read() as session:
        target = await account_or_404(session, account_id)
        urls = []
        for status_id in status_ids:
            status = await visible_status(session, viewer, status_id)
            if status is None or status.account_id != target.id:
                raise UnprocessableEntity(f"Validation failed: {status_id} is not a status of the account")
            urls.append(status.uri)
    try:
        row = await safety.report(
            ctx,
            viewer,
            target.uri,
            status_urls=urls,
            category=category,
            comment=comment,
            rule_ids=rule_ids,
            forward=forward,
        )
    except UsageError as exc:
        raise UnprocessableEntity(f"Validation failed: {exc}") from None
    async with ctx.db.read() as session:
        return json_response(await report_json(session, row, target, ctx.urls))
