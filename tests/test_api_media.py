"""Media in the client API over real HTTP: uploads, what is refused, posts with images, avatars.

Every refused file is answered 422 with a reason and leaves nothing behind: no row, and no file
under the instance's media directory. Uploads are read as a stream with their own cap, far above
the 1 MB every other request body is held to.
"""

import io
import json
import os
import struct
import zlib
from dataclasses import replace
from pathlib import Path

import aiohttp
from PIL import Image
from sqlmodel import select

from spark_fed.http import multipart
from spark_fed.models import MediaAttachment
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark, free_port, test_config


async def _client(spark: Spark, aiohttp_client, name: str, scopes: str = "read write follow"):
    account = await spark.user(name)
    token = await create_token(spark.db, account, parse_scopes(scopes))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client, account


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid PNG header claiming WIDTH x HEIGHT pixels, with a tiny compressed body."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 1_000_000, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def form(file: bytes, filename: str, content_type: str, **fields: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    for name, value in fields.items():
        data.add_field(name, value)
    data.add_field("file", file, filename=filename, content_type=content_type)
    return data


def files_under(spark: Spark) -> list[Path]:
    return [p for p in Path(spark.config.media.path).rglob("*") if p.is_file()]


async def _rows(spark: Spark) -> list[MediaAttachment]:
    async with spark.db.read() as session:
        return list((await session.exec(select(MediaAttachment))).all())


async def test_upload_answers_mastodons_media_attachment(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")
    resp = await client.post(
        "/api/v2/media",
        data=form(
            image_bytes(size=(64, 48)), "x.png", "image/png", description="a blue box", focus="0.5,-0.5"
        ),
    )
    assert resp.status == 200, await resp.text()
    media = await resp.json()
    assert isinstance(media["id"], str) and media["type"] == "image"
    assert media["url"] == f"{spark.base}/media/{media['id']}/original"
    assert media["preview_url"] == f"{spark.base}/media/{media['id']}/small"
    assert media["remote_url"] is None and media["text_url"] is None
    assert media["meta"]["original"] == {"width": 64, "height": 48, "size": "64x48", "aspect": 64 / 48}
    assert set(media["meta"]["small"]) == {"width", "height", "size", "aspect"}
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.5}
    assert media["description"] == "a blue box" and isinstance(media["blurhash"], str)

    served = await client.get(f"/media/{media['id']}/original")
    assert served.status == 200 and served.content_type == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(await served.read())).size == (64, 48)

    resp = await client.post("/api/v1/media", data=form(image_bytes("JPEG"), "y.bin", "text/plain"))
    assert resp.status == 200 and (await resp.json())["url"].endswith("/original")
    assert (await client.get(f"/media/{(await resp.json())['id']}/original")).content_type == "image/jpeg"

    shown = await (await client.get(f"/api/v1/media/{media['id']}")).json()
    assert shown == media
    resp = await client.put(f"/api/v1/media/{media['id']}", data={"description": "a box", "focus": "0,0.25"})
    changed = await resp.json()
    assert changed["description"] == "a box" and changed["meta"]["focus"] == {"x": 0.0, "y": 0.25}
    resp = await client.put(f"/api/v1/media/{media['id']}", data={"focus": "2,2"})
    assert resp.status == 422


async def test_uploads_larger_than_the_request_cap_are_streamed(spark: Spark, aiohttp_client) -> None:
    """The app holds other bodies to 1 MB; an upload has its own cap (16 MB by default)."""
    client, _alice = await _client(spark, aiohttp_client, "alice")
    big = noise_png(1000)
    assert len(big) > spark.config.federation.max_body_bytes
    resp = await client.post("/api/v2/media", data=form(big, "noise.png", "image/png"))
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["meta"]["original"]["size"] == "1000x1000"
    # Every other body keeps the cap.
    resp = await client.post("/api/v1/statuses", data={"status": "x" * 1_100_000})
    assert resp.status == 413


async def test_refused_files_get_422_and_leave_nothing(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")
    jpeg = image_bytes("JPEG", size=(640, 480))
    refused = {
        "bomb": (png_bomb(), "bomb.png", "image/png"),
        "truncated": (jpeg[: len(jpeg) // 2], "cut.jpg", "image/jpeg"),
        "svg": (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "x.svg",
            "image/svg+xml",
        ),
        "html": (
            b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
            "cat.png",
            "image/png",
        ),
        "empty": (b"", "nothing.png", "image/png"),
    }
    for what, (data, filename, content_type) in refused.items():
        resp = await client.post("/api/v2/media", data=form(data, filename, content_type))
        assert resp.status == 422, what
        error = (await resp.json())["error"]
        assert isinstance(error, str) and error and "\n" not in error, what
    assert files_under(spark) == [] and await _rows(spark) == []
    no_file = await client.post("/api/v2/media", data={"description": "no file at all"})
    assert no_file.status == 422
    bad_focus = await client.post("/api/v2/media", data=form(image_bytes(), "a.png", "image/png", focus="x"))
    assert bad_focus.status == 422
    assert files_under(spark) == [] and await _rows(spark) == []


async def test_a_file_over_the_limit_is_refused_without_reading_it_all(
    start_spark, database_url, aiohttp_client, monkeypatch
) -> None:
    config = test_config(await database_url(), free_port())
    spark = await start_spark(replace(config, media=replace(config.media, max_upload_mb=1)))
    client, _alice = await _client(spark, aiohttp_client, "alice")
    read: list[int] = []
    real_read_chunk = aiohttp.BodyPartReader.read_chunk

    async def counted(part, size=aiohttp.BodyPartReader.chunk_size):
        chunk = await real_read_chunk(part, size)
        read.append(len(chunk))
        return chunk

    monkeypatch.setattr(aiohttp.BodyPartReader, "read_chunk", counted)
    huge = b"\x89PNG\r\n\x1a\n" + bytes(20 * 1024 * 1024)
    resp = await client.post("/api/v2/media", data=form(huge, "huge.png", "image/png"))
    assert resp.status == 422
    assert (await resp.json())["error"] == "the file is larger than 1 MB"
    assert sum(read) <= 1024 * 1024 + multipart.CHUNK  # the cap and one chunk, not 20 MB
    monkeypatch.undo()

    over = noise_png(700)  # about 1.4 MB: a real image, just too large
    assert len(over) > 1024 * 1024
    resp = await client.post("/api/v2/media", data=form(over, "big.png", "image/png"))
    assert resp.status == 422
    avatar = aiohttp.FormData()
    avatar.add_field("avatar", over, filename="big.png", content_type="image/png")
    resp = await client.patch("/api/v1/accounts/update_credentials", data=avatar)
    assert resp.status == 422
    assert files_under(spark) == [] and await _rows(spark) == []
    under = await client.post("/api/v2/media", data=form(noise_png(400), "ok.png", "image/png"))
    assert under.status == 200


async def test_media_is_its_owners_only(spark: Spark, aiohttp_client) -> None:
    alice_client, _alice = await _client(spark, aiohttp_client, "alice")
    bob_client, _bob = await _client(spark, aiohttp_client, "bob")
    reader, _carol = await _client(spark, aiohttp_client, "carol", scopes="read")
    media = await (
        await alice_client.post("/api/v2/media", data=form(image_bytes(), "a.png", "image/png"))
    ).json()
    assert (await bob_client.get(f"/api/v1/media/{media['id']}")).status == 404
    assert (await bob_client.put(f"/api/v1/media/{media['id']}", data={"description": "mine"})).status == 404
    assert (await bob_client.get("/api/v1/media/12345")).status == 404
    assert (await reader.post("/api/v2/media", data=form(image_bytes(), "a.png", "image/png"))).status == 403
    anonymous = await aiohttp_client(spark.server)
    assert (
        await anonymous.post("/api/v2/media", data=form(image_bytes(), "a.png", "image/png"))
    ).status == 401
    # Bob cannot post Alice's upload.
    resp = await bob_client.post("/api/v1/statuses", data={"status": "stolen", "media_ids[]": media["id"]})
    assert resp.status == 422
    assert (await alice_client.get(f"/api/v1/media/{media['id']}")).status == 200


async def test_statuses_with_media_ids(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")

    async def upload(color) -> str:
        resp = await client.post("/api/v2/media", data=form(image_bytes(color=color), "a.png", "image/png"))
        return (await resp.json())["id"]

    ids = [await upload((i * 40, 10, 10)) for i in range(5)]
    resp = await client.post("/api/v1/statuses", data=[("status", ""), ("media_ids[]", ids[0])])
    assert resp.status == 200, await resp.text()  # images and no text: a valid post
    only_image = await resp.json()
    assert [m["id"] for m in only_image["media_attachments"]] == [ids[0]]
    assert only_image["media_attachments"][0]["url"] == f"{spark.base}/media/{ids[0]}/original"
    assert (await client.get(f"/api/v1/media/{ids[0]}")).status == 404  # attached: no longer editable

    resp = await client.post(
        "/api/v1/statuses",
        data=json.dumps({"status": "two", "media_ids": [ids[2], ids[1]]}),
        headers={"Content-Type": "application/json"},
    )
    two = await resp.json()
    assert [m["id"] for m in two["media_attachments"]] == [ids[2], ids[1]]

    too_many = [("status", "five"), *(("media_ids[]", i) for i in ids)]
    assert (await client.post("/api/v1/statuses", data=too_many)).status == 422
    again = await client.post("/api/v1/statuses", data={"status": "reuse", "media_ids[]": ids[1]})
    assert again.status == 422  # attached to another post
    assert (await client.post("/api/v1/statuses", data={"status": "x", "media_ids[]": "nope"})).status == 422
    assert (await client.post("/api/v1/statuses", data={"status": ""})).status == 422

    resp = await client.put(
        f"/api/v1/statuses/{two['id']}", data={"status": "two, edited", "media_ids[]": ids[3]}
    )
    edited = await resp.json()
    assert resp.status == 200 and [m["id"] for m in edited["media_attachments"]] == [ids[3]]
    resp = await client.put(f"/api/v1/statuses/{two['id']}", data={"status": "text only changes"})
    assert [m["id"] for m in (await resp.json())["media_attachments"]] == [ids[3]]  # kept
    shown = await (await client.get(f"/api/v1/statuses/{two['id']}")).json()
    assert [m["id"] for m in shown["media_attachments"]] == [ids[3]]


async def test_avatar_and_header(spark: Spark, aiohttp_client) -> None:
    client, alice = await _client(spark, aiohttp_client, "alice")
    me = await (await client.get("/api/v1/accounts/verify_credentials")).json()
    assert me["avatar"] == me["avatar_static"] == f"{spark.base}/avatars/original/missing.png"
    assert me["header"] == me["header_static"] == f"{spark.base}/headers/original/missing.png"

    body = aiohttp.FormData()
    body.add_field("display_name", "Alice A.")
    body.add_field("avatar", image_bytes("PNG", (120, 120)), filename="me.png", content_type="image/png")
    body.add_field("header", image_bytes("JPEG", (600, 200)), filename="top.jpg", content_type="image/jpeg")
    resp = await client.patch("/api/v1/accounts/update_credentials", data=body)
    assert resp.status == 200, await resp.text()
    updated = await resp.json()
    rows = {r.kind: r for r in await _rows(spark)}
    assert updated["display_name"] == "Alice A."
    assert updated["avatar"] == updated["avatar_static"] == f"{spark.base}/media/{rows['avatar'].id}/original"
    assert updated["header"] == updated["header_static"] == f"{spark.base}/media/{rows['header'].id}/original"
    me = await (await client.get("/api/v1/accounts/verify_credentials")).json()
    assert me["avatar"] == updated["avatar"] and me["header"] == updated["header"]
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).status == 200
    assert (await client.get(updated["avatar"].removeprefix(spark.base))).content_type == "image/png"

    actor = await (await client.get("/users/alice", headers={"Accept": "application/activity+json"})).json()
    assert actor["icon"] == {"type": "Image", "mediaType": "image/png", "url": updated["avatar"]}
    assert actor["image"] == {"type": "Image", "mediaType": "image/jpeg", "url": updated["header"]}

    svg = aiohttp.FormData()
    svg.add_field(
        "avatar", b"<svg xmlns='http://www.w3.org/2000/svg'/>", filename="a.png", content_type="image/png"
    )
    resp = await client.patch("/api/v1/accounts/update_credentials", data=svg)
    assert resp.status == 422 and (await resp.json())["error"]
    assert {r.id for r in await _rows(spark)} == {rows["avatar"].id, rows["header"].id}

    newer = aiohttp.FormData()
    newer.add_field(
        "avatar", image_bytes("PNG", (90, 90), (1, 2, 3)), filename="b.png", content_type="image/png"
    )
    again = await (await client.patch("/api/v1/accounts/update_credentials", data=newer)).json()
    assert again["avatar"] != updated["avatar"] and again["header"] == updated["header"]
    kinds = sorted(r.kind for r in await _rows(spark))
    assert kinds == ["avatar", "header"]  # the old avatar was replaced
    # A plain form (no files) still works, under the ordinary body cap.
    plain = await client.patch("/api/v1/accounts/update_credentials", data={"note": "hello"})
    assert plain.status == 200 and (await plain.json())["avatar"] == again["avatar"]


async def test_malformed_multipart_is_a_400(spark: Spark, aiohttp_client) -> None:
    client, _alice = await _client(spark, aiohttp_client, "alice")
    for content_type, body in (
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=x", b"garbage without a boundary"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nab'),
    ):
        resp = await client.post("/api/v2/media", data=body, headers={"Content-Type": content_type})
        assert resp.status in (400, 422), (content_type, body, resp.status)
    assert files_under(spark) == [] and await _rows(spark) == []
