"""Finding the account or status a client names by API id, as the viewer may see it."""

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.errors import NotFound
from spark_fed.models import Account, Status
from spark_fed.queries.timelines import visible_status

from .params import is_id

MAX_ACCOUNT_ID = 2**31 - 1


def api_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not is_id(raw):
        raise NotFound("Record not found")
    return int(raw)


async def account_or_404(session: AsyncSession, account_id: int) -> Account:
    if account_id > MAX_ACCOUNT_ID:  # accounts have 32-bit keys
        raise NotFound("Record not found")
    account = await session.get(Account, account_id)
    if account is None or account.is_instance_actor:
        raise NotFound("Record not found")
    return account


async def status_or_404(session: AsyncSession, status_id: int, viewer: Account | None) -> Status:
    """404 also for what the viewer may not see, so its existence is not given away."""
    status = await visible_status(session, viewer, status_id)
    if status is None:
        raise NotFound("Record not found")
    return status
