"""The rules of the forms that carry files (the composer, the settings' avatar and header), over HTTP.

What a browser does not show: a multipart post passes the same origin and CSRF checks as every other
form, no file is read before the token, each file is capped as it streams (the app's 1 MB body limit
stays for everything else), at most four images go with a post, and a refused image posts nothing.
(These need no browser; they live here beside the browser tests of the same forms.)
"""

from __future__ import annotations

import io
import re
from dataclasses import replace

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlmodel import select

from spark_fed.models import MediaAttachment, Status
from tests.conftest import Spark, free_port, test_config

from .support import PASSWORD, user

HTML = {"Accept": "text/html"}
SAME = {"Sec-Fetch-Site": "same-origin"}


def png(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "#176fb0").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def client(spark: Spark, aiohttp_client) -> TestClient:
    await user(spark, "alice")
    client = await aiohttp_client(spark.server)
    response = await client.post(
        "/auth/sign_in", data={"username": "alice", "password": PASSWORD}, headers=SAME, allow_redirects=False
    )
    assert response.status == 303
    return client


async def _csrf(client: TestClient) -> str:
    match = re.search(
        r'name="csrf_token" value="([^"]+)"', await (await client.get("/", headers=HTML)).text()
    )
    assert match
    return match.group(1)


def _form(csrf: str | None, text: str = "", images: list[bytes] = (), descriptions=(), token_last=False):
    form = aiohttp.FormData()
    if csrf is not None and not token_last:
        form.add_field("csrf_token", csrf)
    form.add_field("text", text)
    for n, data in enumerate(images):
        form.add_field("image", data, filename=f"{n}.png", content_type="image/png")
    for description in descriptions:
        form.add_field("description", description)
    if csrf is not None and token_last:
        form.add_field("csrf_token", csrf)
    return form


async def _rows(spark: Spark):
    async with spark.db.read() as session:
        return (
            list((await session.exec(select(Status))).all()),
            list((await session.exec(select(MediaAttachment))).all()),
        )


async def test_a_post_with_images_and_descriptions(spark: Spark, client: TestClient) -> None:
    csrf = await _csrf(client)
    form = _form(csrf, "Two pictures", [png(), png(80, 60)], ["First", "Second"])
    response = await client.post("/web/statuses", data=form, headers=SAME, allow_redirects=False)
    assert response.status == 303, await response.text()
    [status], media = await _rows(spark)
    assert status.text == "Two pictures"
    assert [(m.status_id, m.position, m.description, m.width) for m in media] == [
        (status.id, 0, "First", 64),
        (status.id, 1, "Second", 80),
    ]
    page = await (await client.get("/", headers=HTML)).text()
    assert f'src="/media/{media[0].id}/small" alt="First"' in page
    assert f'href="/media/{media[1].id}/original"' in page


@pytest.mark.parametrize(
    ("headers", "token", "token_last"),
    [
        ({"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, "csrf", False),
        ({"Origin": "http://127.0.0.1:1"}, "csrf", False),
        (SAME, "not the token", False),
        (SAME, None, False),
        (SAME, "csrf", True),  # the token after the file: the file is not read, the post refused
    ],
)
async def test_forged_multipart_posts_are_refused(
    spark: Spark, client: TestClient, headers, token, token_last
) -> None:
    csrf = await _csrf(client)
    form = _form(csrf if token == "csrf" else token, "forged", [png()], token_last=token_last)
    response = await client.post(
        "/web/statuses", data=form, headers={**HTML, **headers}, allow_redirects=False
    )
    assert response.status == 403
    assert await _rows(spark) == ([], [])


async def test_refused_images_post_nothing(spark: Spark, client: TestClient) -> None:
    csrf = await _csrf(client)
    cases = [
        ([png(), b"<!doctype html><p>hi"], "image 1.png was refused: not a JPEG, PNG, WebP or GIF image"),
        ([png()] * 5, "at most 4 images at a time"),
        ([], "a post needs some text or an image"),
    ]
    for images, reason in cases:
        form = _form(csrf, "" if not images else "not posted", images)
        response = await client.post(
            "/web/statuses", data=form, headers={**HTML, **SAME}, allow_redirects=False
        )
        assert response.status == 422, reason
        assert reason.lower() in (await response.text()).lower()
    statuses, _media = await _rows(spark)
    assert statuses == []


async def test_each_file_is_capped_as_it_streams(start_spark, database_url, aiohttp_client) -> None:
    config = test_config(await database_url(), free_port())
    spark = await start_spark(replace(config, media=replace(config.media, max_upload_mb=1)))
    await user(spark, "alice")
    client = await aiohttp_client(spark.server)
    await client.post("/auth/sign_in", data={"username": "alice", "password": PASSWORD}, headers=SAME)
    csrf = await _csrf(client)
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024)
    response = await client.post(
        "/web/statuses", data=_form(csrf, "too big", [big]), headers={**HTML, **SAME}, allow_redirects=False
    )
    assert response.status == 422
    assert "The image is larger than 1 MB." in await response.text()
    # Just under the cap passes the form (and is then refused by the image checks, not the size).
    near = png() + b"\0" * 1000
    response = await client.post(
        "/web/statuses", data=_form(csrf, "fits", [near]), headers={**HTML, **SAME}, allow_redirects=False
    )
    assert response.status == 303
    # A body over the app's 1 MB limit without files is still refused as before.
    assert (
        await client.post("/web/statuses", data={"text": "x" * (2 * 1024 * 1024)}, headers=SAME)
    ).status == 413


async def test_settings_take_an_avatar_and_a_header(spark: Spark, client: TestClient) -> None:
    csrf = await _csrf(client)
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("display_name", "Alice")
    form.add_field("bio", "")
    form.add_field("avatar", png(100, 100), filename="me.png", content_type="image/png")
    form.add_field("header", b"", filename="", content_type="application/octet-stream")  # nothing chosen
    response = await client.post("/settings/profile", data=form, headers=SAME, allow_redirects=False)
    assert response.status == 303, await response.text()
    _statuses, media = await _rows(spark)
    assert [(m.kind, m.width) for m in media] == [("avatar", 100)]
    page = await (await client.get("/@alice", headers=HTML)).text()
    assert f'src="/media/{media[0].id}/small" alt="Avatar of Alice"' in page
    assert 'class="banner" aria-hidden="true"></div>' in page  # no header: the gradient
