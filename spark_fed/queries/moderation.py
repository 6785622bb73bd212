"""What moderators read: reports (with the reported posts), the instance's domain blocks, the log."""

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..models import Account, DomainBlock, ModerationAction, Report, Status

MAX_LIMIT = 200


@dataclass(frozen=True)
class ReportDetails:
    report: Report
    reporter: Account | None
    target: Account | None
    statuses: list[Status]
    """The reported posts still stored, in the order the report names them."""
    resolved_by: Account | None = None


def status_ids_of(report: Report) -> list[int]:
    """`status_ids` holds the ids comma- or space-separated; anything unreadable is skipped."""
    found: list[int] = []
    for part in report.status_ids.replace(",", " ").split():
        if part.isdigit() and len(part) <= 19:
            found.append(int(part))
    return found


async def list_reports(
    session: AsyncSession, *, resolved: bool | None = False, limit: int = 20, max_id: int | None = None
) -> list[Report]:
    """Newest first; RESOLVED False: open ones (the default), True: resolved ones, None: all."""
    query = select(Report)
    if resolved is True:
        query = query.where(col(Report.resolved_at).is_not(None))
    elif resolved is False:
        query = query.where(col(Report.resolved_at).is_(None))
    if max_id is not None:
        query = query.where(col(Report.id) < max_id)
    query = query.order_by(col(Report.id).desc()).limit(max(1, min(limit, MAX_LIMIT)))
    return list((await session.exec(query)).all())


async def report_details(session: AsyncSession, report_id: int) -> ReportDetails | None:
    report = await session.get(Report, report_id)
    if report is None:
        return None
    ids = status_ids_of(report)
    statuses: list[Status] = []
    if ids:
        rows = await session.exec(select(Status).where(col(Status.id).in_(ids)))
        by_id = {s.id: s for s in rows.all()}
        statuses = [by_id[i] for i in ids if i in by_id]
    resolved_by = await session.get(Account, report.resolved_by_id) if report.resolved_by_id else None
    return ReportDetails(
        report=report,
        reporter=await session.get(Account, report.account_id),
        target=await session.get(Account, report.target_account_id),
        statuses=statuses,
        resolved_by=resolved_by,
    )


async def list_domain_blocks(session: AsyncSession) -> list[DomainBlock]:
    """Every block of the instance, by domain."""
    return list((await session.exec(select(DomainBlock).order_by(col(DomainBlock.domain)))).all())


async def moderation_log(
    session: AsyncSession, target_account_id: int | None = None
) -> list[ModerationAction]:
    """What moderators did to TARGET_ACCOUNT_ID (None: everything), newest first."""
    query = select(ModerationAction)
    if target_account_id is not None:
        query = query.where(col(ModerationAction.target_account_id) == target_account_id)
    return list((await session.exec(query.order_by(col(ModerationAction.id).desc()).limit(1000))).all())
