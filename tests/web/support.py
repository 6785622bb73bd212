"""What the browser tests share: accounts with passwords, signing in through the page, database looks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import select

from spark_fed.models import Account, Follow, Status
from spark_fed.passwords import hash_password
from tests.conftest import CHEAP_PASSWORDS, Spark

if TYPE_CHECKING:
    from playwright.async_api import Page

PASSWORD = "password123"
_HASH: dict[str, str] = {}


async def user(spark: Spark, name: str, **kwargs: Any) -> Account:
    """A local account on SPARK that can sign in with PASSWORD (hashed once per test session)."""
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = await hash_password(CHEAP_PASSWORDS, PASSWORD)
    return await spark.user(name, password_hash=_HASH[PASSWORD], **kwargs)


async def sign_in(page: Page, spark: Spark, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would, and land on the home page."""
    await page.goto(f"{spark.base}/auth/sign_in")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{spark.base}/")
    await page.get_by_role("heading", name="Home", level=1).wait_for()


def handle(spark: Spark, name: str) -> str:
    """How SPARK's user NAME is shown on another server: @name@host:port."""
    return f"@{name}@{spark.domain}"


async def statuses(spark: Spark) -> list[Status]:
    async with spark.db.read() as session:
        return list((await session.exec(select(Status).order_by(Status.id))).all())


async def status_by_uri(spark: Spark, uri: str) -> Status | None:
    async with spark.db.read() as session:
        return (await session.exec(select(Status).where(Status.uri == uri))).first()


async def follow_state(spark: Spark, follower_uri: str, followee_uri: str) -> str | None:
    """The state of the follows row on SPARK between two actors (None when there is none)."""
    async with spark.db.read() as session:
        ids = {
            a.uri: a.id
            for a in (
                await session.exec(select(Account).where(Account.uri.in_([follower_uri, followee_uri])))  # type: ignore[attr-defined]
            ).all()
        }
        if len(ids) < 2:
            return None
        query = select(Follow.state).where(
            Follow.follower_id == ids[follower_uri], Follow.followee_id == ids[followee_uri]
        )
        return (await session.exec(query)).first()
