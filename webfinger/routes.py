"""The /.well-known endpoints and the NodeInfo documents."""

from xml.sax.saxutils import quoteattr

from aiohttp import web

import spark_fed
from spark_fed.errors import Gone, NotFound
from spark_fed.http.negotiation import JSON_TYPES, parse_accept
from spark_fed.http.responses import JRD_JSON, json_response
from spark_fed.models import Account
from spark_fed.queries.accounts import count_local_users, find_instance_actor, find_local_user
from spark_fed.queries.statuses import count_local_posts
from spark_fed.state import CONFIG, DB, URLS
from spark_fed.urls import Urls

from .resources import parse_resource

routes = web.RouteTableDef()

CACHE_3_DAYS = {"Cache-Control": "max-age=259200, public"}
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{}"
NODEINFO_VERSIONS = ("2.0", "2.1")


@routes.get("/.well-known/webfinger")
async def webfinger(request: web.Request) -> web.Response:
    urls = request.app[URLS]
    resource = parse_resource(request.query.get("resource"), urls)
    async with request.app[DB].read() as session:
        if resource.username is None:
            account = await find_instance_actor(session)
        else:
            account = await find_local_user(session, resource.username)
    if account is None:
        raise NotFound("no such account")
    if account.suspended_at is not None:
        raise Gone("this account is suspended")
    return json_response(_jrd(account, urls), content_type=JRD_JSON, headers=CACHE_3_DAYS)


def _jrd(account: Account, urls: Urls) -> dict:
    if account.is_instance_actor:
        return {
            "subject": f"acct:{urls.domain}@{urls.domain}",
            "aliases": [account.uri],
            "links": [{"rel": "self", "type": "application/activity+json", "href": account.uri}],
        }
    return {
        "subject": urls.acct(account.username),
        "aliases": [account.url, account.uri],
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": account.url},
            {"rel": "self", "type": "application/activity+json", "href": account.uri},
        ],
    }


@routes.get("/.well-known/host-meta")
async def host_meta(request: web.Request) -> web.Response:
    template = request.app[URLS].webfinger_template()
    if any(kind in JSON_TYPES for kind, _q in parse_accept(request.headers.get("Accept", ""))):
        return json_response({"links": [{"rel": "lrdd", "template": template}]}, content_type=JRD_JSON)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={quoteattr(template)}/>\n'
        "</XRD>\n"
    )
    return web.Response(text=body, content_type="application/xrd+xml", charset="utf-8", headers=CACHE_3_DAYS)


@routes.get("/.well-known/nodeinfo")
async def nodeinfo_links(request: web.Request) -> web.Response:
    urls = request.app[URLS]
    links = [{"rel": NODEINFO_SCHEMA.format(v), "href": urls.nodeinfo(v)} for v in NODEINFO_VERSIONS]
    links.append({"rel": "https://www.w3.org/ns/activitystreams#Application", "href": urls.instance_actor})
    return json_response({"links": links})


@routes.get("/nodeinfo/{version}")
async def nodeinfo(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in NODEINFO_VERSIONS:
        raise NotFound("unknown NodeInfo version")
    config = request.app[CONFIG]
    async with request.app[DB].read() as session:
        users = await count_local_users(session)
        local_posts = await count_local_posts(session)
    document = {
        "version": version,
        "software": {"name": "spark", "version": spark_fed.__version__},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "usage": {"users": {"total": users}, "localPosts": local_posts},
        "openRegistrations": config.instance.registrations == "open",
        "metadata": {"nodeName": config.instance.title, "nodeDescription": config.instance.description},
    }
    profile = f'profile="{NODEINFO_SCHEMA.format(version)}#"'
    return json_response(document, content_type=f"application/json; {profile}")
