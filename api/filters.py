"""Muted words: Mastodon's filters v2 (`/api/v2/filters` and their keywords), on `spark_fed.filters`."""

import re
from typing import Any

from aiohttp import web

from spark_fed import filters
from spark_fed.errors import UnprocessableEntity, UsageError
from spark_fed.http.forms import read_form
from spark_fed.http.responses import json_response
from spark_fed.state import CONTEXT

from . import params
from .auth import require
from .entities import filter_entity, filter_keyword_entity
from .lookup import api_id

routes = web.RouteTableDef()

_FORM_KEYWORD = re.compile(r"keywords_attributes\[(\d*)\]\[(\w+)\]")


def _invalid(exc: UsageError) -> UnprocessableEntity:
    return UnprocessableEntity(f"Validation failed: {exc}")


def _contexts(value: object) -> list[str] | None:
    """`context[]=home&context[]=public` (a form), a JSON list, or one word."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if any(not isinstance(v, str) for v in values):
        raise UnprocessableEntity("Validation failed: context must be a list of words")
    return values


def _expires_in(data: dict[str, Any], *, keep: bool) -> Any:
    """Seconds from now; empty or null: never. Left out: never (a new filter) or KEEP (a change)."""
    if "expires_in" not in data:
        return filters.KEEP if keep else None
    value = data["expires_in"]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or len(text) > 12 or int(text) == 0:
        raise UnprocessableEntity("Validation failed: expires_in must be a positive number of seconds")
    return int(text)


async def _keyword_attributes(request: web.Request, data: dict[str, Any]) -> list[dict[str, Any]]:
    """`keywords_attributes` as Rails reads it: a JSON list (or an object of numbered entries), or
    form keys `keywords_attributes[][keyword]` (a repeated key starts the next entry) or
    `keywords_attributes[0][keyword]`."""
    if request.content_type == "application/json":
        raw = data.get("keywords_attributes")
        if raw is None:
            return []
        if isinstance(raw, dict):
            raw = list(raw.values())
        if not isinstance(raw, list) or any(not isinstance(e, dict) for e in raw):
            raise UnprocessableEntity("Validation failed: keywords_attributes must be a list of objects")
        return raw
    form = await read_form(request)  # already read (and kept) by params.body
    entries: list[dict[str, Any]] = []
    numbered: dict[int, dict[str, Any]] = {}
    for key, value in form.items():
        match = _FORM_KEYWORD.fullmatch(key)
        if match is None or not isinstance(value, str):
            continue
        index, name = match.groups()
        if index == "":
            if not entries or name in entries[-1]:
                entries.append({})
            entries[-1][name] = value
        elif len(index) <= 6:
            numbered.setdefault(int(index), {})[name] = value
    return entries + [numbered[i] for i in sorted(numbered)]


def _keyword_edit(entry: dict[str, Any]) -> filters.KeywordEdit:
    keyword = entry.get("keyword")
    if keyword is not None and not isinstance(keyword, (str, int, float)):
        raise UnprocessableEntity("Validation failed: keyword must be text")
    raw_id = entry.get("id")
    if raw_id is not None and raw_id != "" and not params.is_id(raw_id):
        raise UnprocessableEntity("Validation failed: a keyword's id must be an id")
    return filters.KeywordEdit(
        id=int(str(raw_id)) if raw_id not in (None, "") else None,
        keyword=params.text(keyword) if keyword is not None else None,
        whole_word=params.flag(entry["whole_word"], "whole_word") if "whole_word" in entry else None,
        destroy=params.flag(entry.get("_destroy"), "_destroy"),
    )


async def _json_of(request: web.Request, viewer_id: int, filter_id: int) -> dict[str, Any]:
    async with request.app[CONTEXT].db.read() as session:
        row, keywords = await filters.get_filter(session, viewer_id, filter_id)
    return filter_entity(row, keywords)


@routes.get("/api/v2/filters")
async def list_filters(request: web.Request) -> web.Response:
    viewer = await require(request, "read:filters")
    async with request.app[CONTEXT].db.read() as session:
        found = await filters.list_filters(session, viewer.id)
    return json_response([filter_entity(row, keywords) for row, keywords in found])


@routes.post("/api/v2/filters")
async def create_filter(request: web.Request) -> web.Response:
    viewer = await require(request, "write:filters")
    data = await params.body(request)
    edits = [_keyword_edit(e) for e in await _keyword_attributes(request, data)]
    keywords = [
        (e.keyword or "", True if e.whole_word is None else e.whole_word) for e in edits if not e.destroy
    ]
    try:
        row = await filters.create_filter(
            request.app[CONTEXT].db,
            viewer,
            title=params.text(data.get("title")) or "",
            contexts=_contexts(data.get("context")) or [],
            action=params.text(data.get("filter_action")) or "warn",
            keywords=keywords,
            expires_in=_expires_in(data, keep=False),
        )
    except UsageError as exc:
        raise _invalid(exc) from None
    return json_response(await _json_of(request, viewer.id, row.id))


@routes.get("/api/v2/filters/{id}")
async def show_filter(request: web.Request) -> web.Response:
    viewer = await require(request, "read:filters")
    return json_response(await _json_of(request, viewer.id, api_id(request)))


@routes.put("/api/v2/filters/{id}")
async def update_filter(request: web.Request) -> web.Response:
    viewer = await require(request, "write:filters")
    filter_id = api_id(request)
    data = await params.body(request)
    edits = [_keyword_edit(e) for e in await _keyword_attributes(request, data)]
    try:
        await filters.update_filter(
            request.app[CONTEXT].db,
            viewer,
            filter_id,
            title=params.text(data.get("title")),
            contexts=_contexts(data.get("context")),
            action=params.text(data.get("filter_action")),
            expires_in=_expires_in(data, keep=True),
            keywords=edits,
        )
    except UsageError as exc:
        raise _invalid(exc) from None
    return json_response(await _json_of(request, viewer.id, filter_id))


@routes.delete("/api/v2/filters/{id}")
async def delete_filter(request: web.Request) -> web.Response:
    viewer = await require(request, "write:filters")
    await filters.delete_filter(request.app[CONTEXT].db, viewer, api_id(request))
    return json_response({})


@routes.get("/api/v2/filters/{id}/keywords")
async def list_keywords(request: web.Request) -> web.Response:
    viewer = await require(request, "read:filters")
    async with request.app[CONTEXT].db.read() as session:
        _row, keywords = await filters.get_filter(session, viewer.id, api_id(request))
    return json_response([filter_keyword_entity(k) for k in keywords])


@routes.post("/api/v2/filters/{id}/keywords")
async def add_keyword(request: web.Request) -> web.Response:
    viewer = await require(request, "write:filters")
    filter_id = api_id(request)
    data = await params.body(request)
    try:
        keyword = await filters.add_keyword(
            request.app[CONTEXT].db,
            viewer,
            filter_id,
            params.text(data.get("keyword")) or "",
            params.flag(data.get("whole_word"), "whole_word", True),
        )
    except UsageError as exc:
        raise _invalid(exc) from None
    return json_response(filter_keyword_entity(keyword))


@routes.get("/api/v2/filters/keywords/{id}")
async def show_keyword(request: web.Request) -> web.Response:
    viewer = await require(request, "read:filters")
    async with request.app[CONTEXT].db.read() as session:
        keyword = await filters.get_keyword(session, viewer.id, api_id(request))
    return json_response(filter_keyword_entity(keyword))


@routes.put("/api/v2/filters/keywords/{id}")
async def update_keyword(request: web.Request) -> web.Response:
    viewer = await require(request, "write:filters")
    data = await params.body(request)
    whole_word = params.flag(data["whole_word"], "whole_word") if "whole_word" in data else None
    try:
        keyword = await filters.update_keyword(
            request.app[CONTEXT].db,
            viewer,
            api_id(request),
            keyword=params.text(data.get("keyword")),
            whole_word=whole_word,
        )
    except UsageError as exc:
        raise _invalid(exc) from None
    return json_response(filter_keyword_entity(keyword))


@routes.delete("/api/v2/filters/keywords/{id}")
async def delete_keyword(request: web.Request) -> web.Response:
    viewer = await require(request, "write:filters")
    await filters.delete_keyword(request.app[CONTEXT].db, viewer, api_id(request))
    return json_response({})
