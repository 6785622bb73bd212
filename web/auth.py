"""Who is signed in, and the checks every form post of a signed-in browser passes.

A state-changing request is authenticated by the session cookie only through
`form_of`, which also refuses it unless it comes from one of our own pages:
`Sec-Fetch-Site` must say same-origin (another port of this host is
"same-site", and refused), `Origin`, when sent, must be this origin, and the
form must carry the session's CSRF token. A handler cannot get a viewer for a
POST any other way, so no action can forget the check.

A form with files (the composer's images, the settings' avatar and header) is
read by `upload_form_of`, as it streams: the app's 1 MB body limit stays for
every other request, each file is capped as it arrives, and no file is read
before the form's CSRF token has been checked (the token is the form's first
field), so a forged request costs a header read, not an upload.
"""

import hmac
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import BodyPartReader, web
from multidict import MultiDict, MultiDictProxy

from spark_fed import browser_sessions
from spark_fed.browser_sessions import SignedIn
from spark_fed.errors import Forbidden, UnprocessableEntity
from spark_fed.http import multipart
from spark_fed.http.forms import read_form
from spark_fed.models import Account
from spark_fed.state import CONTEXT

SIGN_IN = "/auth/sign_in"
COOKIE = "spark_session"
CSRF_FIELD = "csrf_token"
_SIGNED_IN = web.RequestKey("web_signed_in", object)
_UNSET = object()
FORM_EXPIRED = "this form has expired: reload the page and try again"


@dataclass(frozen=True)
class Viewer:
    """The signed-in account and its session (whose CSRF token the page's forms carry)."""

    account: Account
    session_id: int
    csrf: str


async def viewer(request: web.Request) -> Viewer | None:
    """The signed-in viewer of a page (GET), or None; looked up once per request."""
    found = request.get(_SIGNED_IN, _UNSET)
    if found is _UNSET:
        signed_in = await browser_sessions.find(request.app[CONTEXT].db, request.cookies.get(COOKIE, ""))
        found = _viewer(signed_in)
        request[_SIGNED_IN] = found
    return found  # type: ignore[return-value]


def _viewer(signed_in: SignedIn | None) -> Viewer | None:
    if signed_in is None:
        return None
    return Viewer(signed_in.account, signed_in.session.id, signed_in.session.csrf_token)


async def require_viewer(request: web.Request) -> Viewer:
    """The viewer; a signed-out browser is sent to sign in and brought back here after."""
    found = await viewer(request)
    if found is None:
        back = request.path_qs if request.method == "GET" else "/"
        raise web.HTTPSeeOther(f"{SIGN_IN}?{urlencode({'next': back})}")
    return found


def check_same_origin(request: web.Request) -> None:
    """Refuse a form post that another site (or another port of this host) made the browser send."""
    config = request.app[CONTEXT].config
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise Forbidden("this form was sent from another site")
    origin = request.headers.get("Origin")
    if origin is not None and origin != config.base_url:
        raise Forbidden("this form was sent from another site")


async def form_of(request: web.Request) -> tuple[Viewer, MultiDictProxy[str]]:
    """The viewer and the form of a signed-in browser's POST, once it is shown to be ours."""
    check_same_origin(request)
    found = await require_viewer(request)
    form = await read_form(request)
    check_token(form, found.csrf)
    return found, form


def check_token(form: Mapping[str, object], expected: str) -> None:
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(FORM_EXPIRED)


@dataclass(frozen=True)
class Upload:
    """One file of a form: the input's name, the file name the browser gave, the bytes."""

    field: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class UploadForm:
    fields: MultiDictProxy[str]
    files: tuple[Upload, ...]

    def files_named(self, name: str) -> list[Upload]:
        return [f for f in self.files if f.field == name]


async def upload_form_of(
    request: web.Request, *, files: Mapping[str, int], max_file_bytes: int
) -> tuple[Viewer, UploadForm]:
    """`form_of` for a form with files (`multipart/form-data`), read as it streams.

    FILES names the file inputs and how many files each may send; a file over MAX_FILE_BYTES,
    more files than allowed, or a file before the CSRF token is refused (422, 403) without
    reading the rest. An empty file input (nothing chosen) sends no file. A form sent without
    files (`application/x-www-form-urlencoded`) is read as `form_of` reads it.
    """
    check_same_origin(request)
    found = await require_viewer(request)
    if not multipart.is_multipart(request):
        form = await read_form(request)
        check_token(form, found.csrf)
        text = MultiDict((k, v) for k, v in form.items() if isinstance(v, str))
        return found, UploadForm(MultiDictProxy(text), ())
    fields: MultiDict[str] = MultiDict()
    uploads: list[Upload] = []
    async for part in file_parts(request, found, fields):
        name = part.name or ""
        if name not in files:
            raise UnprocessableEntity("this form sends no such file")
        data = await multipart.read_capped(part, max_file_bytes)
        if data is None:
            raise UnprocessableEntity(f"the image is larger than {multipart.megabytes(max_file_bytes)}")
        if not data and not part.filename:
            continue  # a file input with nothing chosen
        if sum(1 for u in uploads if u.field == name) >= files[name]:
            raise UnprocessableEntity(f"at most {files[name]} images at a time")
        uploads.append(Upload(name, part.filename, data))
    return found, UploadForm(MultiDictProxy(fields), tuple(uploads))


async def file_parts(
    request: web.Request, viewer: Viewer, fields: MultiDict[str], *, max_parts: int = multipart.MAX_PARTS
) -> AsyncIterator[BodyPartReader]:
    """The file parts of a multipart form, each only once the CSRF token before it has been
    checked (403 otherwise, nothing of the file read); its text fields go into FIELDS."""
    checked = False
    async for part in multipart.parts(request, max_parts=max_parts):
        if part.filename is None:
            value = await multipart.read_text(part)
            if part.name == CSRF_FIELD:
                check_token({CSRF_FIELD: value}, viewer.csrf)
                checked = True
            fields.add(part.name or "", value)
            continue
        if not checked:
            raise Forbidden(FORM_EXPIRED)
        yield part
    if not checked:
        raise Forbidden(FORM_EXPIRED)


def set_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    config = request.app[CONTEXT].config
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(browser_sessions.LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=config.server.scheme == "https",
    )


def clear_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")
