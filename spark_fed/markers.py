"""Where a user stopped reading (Mastodon's markers): apps and the web pages move the same ones."""

from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Marker
from .models.types import utcnow


async def save_marker(session: AsyncSession, account_id: int, timeline: str, last_read_id: str) -> Marker:
    marker = await session.get(Marker, (account_id, timeline))
    if marker is None:
        marker = Marker(account_id=account_id, timeline=timeline, last_read_id=last_read_id)
    else:
        marker.last_read_id = last_read_id
        marker.version += 1
        marker.updated_at = utcnow()
    session.add(marker)
    return marker
