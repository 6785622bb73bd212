"""Finding the account or status a client names by API id, as the viewer may see it."""

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from spark_fed.errors import NotFound
from spark_fed.http.ids import INT32, path_id
from spark_fed.models import Account, Status
from spark_fed.queries.timelines import visible_status


def api_id(request: web.Request, name: str = "id") -> int:
    return path_id(request, name, "Record not found")


async def account_or_404(session: AsyncSession, account_id: int) -> Account:
    if account_id > INT32:  # accounts have 32-bit keys
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
