"""Settings → Import: bring a Twitter/X or Mastodon archive over as backdated posts.

The archive is uploaded as a stream to a temporary file under the media directory
(`imports/`, at most `MAX_ARCHIVE_BYTES`), an `ImportJob` row is queued and `outbox.imports.run_job`
runs it in the background, in a task the app holds (`IMPORT_TASKS`) and cancels when it shuts
down. The job's page reads the row, so it survives a reload and shows the same progress from any
browser of the account: it refreshes itself every two seconds (a `<meta http-equiv="refresh">`, no
script needed) until the job is done or failed, then shows the summary. Only the job's owner sees it.
The temporary file is deleted when the job ends, however it ends.
"""

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlmodel import col, select

from outbox import imports
from spark_fed.errors import Conflict, NotFound, ServiceUnavailable
from spark_fed.http.ids import INT32, path_id
from spark_fed.models import ImportJob
from spark_fed.models.types import utcnow
from spark_fed.state import CONTEXT

from ..auth import require_viewer
from ..render import page
from ..uploads import archive_form_of, gibibytes

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_RUNNING_IMPORTS = 2
MAX_ARCHIVE_BYTES = 2 * 1024**3
UPLOAD_DIRECTORY = "imports"  # inside `media.path`
KINDS = (
    ("twitter", "Twitter/X", "The zip from “Download an archive of your data” (data/tweets.js inside)."),
    ("mastodon", "Mastodon", "The zip from “Request your archive” (outbox.json inside)."),
)
RECENT_JOBS = 10
REFRESH_SECONDS = 2
# A queued or running job no task of this process runs, untouched this long: the server stopped
# (or crashed) during it; the page says so instead of refreshing for ever.
STALE_AFTER = timedelta(seconds=60)
IMPORT_TASKS = web.AppKey("import_tasks", set)


@dataclass
class JobView:
    """What the job's page shows of the row."""

    job: ImportJob
    kind_name: str
    running: bool
    interrupted: bool
    percent: int
    summary: dict[str, Any] = field(default_factory=dict)


def setup(app: web.Application) -> None:
    app[IMPORT_TASKS] = set()
    # on_shutdown runs before the cleanup contexts close the database, so a cancelled job can
    # still mark its row; on_cleanup again for an app that was never started as a server.
    app.on_shutdown.append(_cancel_imports)
    app.on_cleanup.append(_cancel_imports)


async def _cancel_imports(app: web.Application) -> None:
    tasks: set[asyncio.Task[None]] = app[IMPORT_TASKS]
    for task in list(tasks):
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


def _kind_name(kind: str) -> str:
    return next((name for value, name, _hint in KINDS if value == kind), kind)


async def _form_page(request: web.Request, who, *, problem: str = "", status: int = 200) -> web.Response:
    ctx = request.app[CONTEXT]
    async with ctx.db.read() as session:
        query = (
            select(ImportJob)
            .where(ImportJob.account_id == who.account.id)
            .order_by(col(ImportJob.id).desc())
            .limit(RECENT_JOBS)
        )
        jobs = list((await session.exec(query)).all())
    context = {
        "kinds": KINDS,
        "jobs": [(job, _kind_name(job.kind)) for job in jobs],
        "max_archive": gibibytes(MAX_ARCHIVE_BYTES),
        "problem": problem,
    }
    return await page(request, "settings_import.html", who, context, status=status)


@routes.get("/settings/import")
async def import_form(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    return await _form_page(request, who)


@routes.post("/settings/import")
async def start_import(request: web.Request) -> web.Response:
    """Store the upload, queue the job, start it, and send the browser to its page."""
    ctx = request.app[CONTEXT]
    tasks: set[asyncio.Task[None]] = request.app[IMPORT_TASKS]
    who = await require_viewer(request)
    # Checked before a byte of the upload is read: each import holds a file of up to 2 GiB and
    # its parsed documents in memory.
    if any(t.get_name().startswith(f"import-{who.account.id}-") for t in tasks):
        raise Conflict("an import of yours is still running: wait for it to finish")
    if len(tasks) >= MAX_RUNNING_IMPORTS:
        raise ServiceUnavailable("the server is busy with other imports: try again in a few minutes")
    directory = Path(ctx.config.media.path) / UPLOAD_DIRECTORY
    who, fields, archive = await archive_form_of(
        request, field="archive", directory=directory, max_bytes=MAX_ARCHIVE_BYTES
    )
    kind = fields.get("kind", "")
    problem = ""
    if kind not in {value for value, _name, _hint in KINDS}:
        problem = "Choose what kind of archive this is: Twitter/X or Mastodon."
    elif archive is None:
        problem = "Choose the archive (a .zip file) to upload."
    if problem:
        if archive is not None:
            await asyncio.to_thread(archive.path.unlink, missing_ok=True)
        return await _form_page(request, who, problem=problem, status=422)
    assert archive is not None
    try:
        async with ctx.db.write() as session:
            job = ImportJob(account_id=who.account.id, kind=kind, state="queued")
            session.add(job)
            await session.flush()
            job_id = job.id
    except BaseException:
        await asyncio.to_thread(archive.path.unlink, missing_ok=True)
        raise
    assert job_id is not None
    name = f"import-{who.account.id}-{job_id}"
    task = asyncio.get_running_loop().create_task(_run(ctx, job_id, archive.path), name=name)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    raise web.HTTPSeeOther(f"/settings/import/{job_id}")


async def _run(ctx, job_id: int, path: Path) -> None:
    """The job, then the temporary file gone; a job that ends without saying so is marked failed."""
    error = ""
    try:
        await imports.run_job(ctx, job_id, path)
    except asyncio.CancelledError:
        error = "the server stopped during the import: upload the archive again to finish it"
        await _mark_failed(ctx, job_id, error)
        raise
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        error = str(exc) if isinstance(exc, imports.ArchiveError) else "the import stopped on an error"
        await _mark_failed(ctx, job_id, error)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)


async def _mark_failed(ctx, job_id: int, error: str) -> None:
    """Mark the row failed unless the job already recorded how it ended."""
    try:
        async with ctx.db.write() as session:
            job = await session.get(ImportJob, job_id)
            if job is not None and job.state not in ("done", "failed"):
                job.state = "failed"
                job.error = error[:500]
                job.updated_at = utcnow()
                session.add(job)
    except Exception:
        log.exception("import job %s: cannot record its failure", job_id)


def _running_here(app: web.Application, job_id: int) -> bool:
    return any(task.get_name() == f"import-{job_id}" for task in app[IMPORT_TASKS])


def _view(request: web.Request, job: ImportJob) -> JobView:
    active = job.state in ("queued", "running")
    interrupted = (
        active
        and not _running_here(request.app, job.id or 0)
        and job.updated_at is not None
        and utcnow() - job.updated_at > STALE_AFTER
    )
    percent = min(100, job.done * 100 // job.total) if job.total else 0
    summary: dict[str, Any] = {}
    if job.summary:
        try:
            loaded = json.loads(job.summary)
        except ValueError:
            loaded = {}
        summary = loaded if isinstance(loaded, dict) else {}
    return JobView(job, _kind_name(job.kind), active and not interrupted, interrupted, percent, summary)


async def _owned_job(request: web.Request, account_id: int) -> ImportJob:
    job_id = path_id(request, "job_id", "no such import", INT32)
    async with request.app[CONTEXT].db.read() as session:
        job = await session.get(ImportJob, job_id)
    if job is None or job.account_id != account_id:
        raise NotFound("no such import")
    return job


@routes.get("/settings/import/{job_id}")
async def job_page(request: web.Request) -> web.Response:
    who = await require_viewer(request)
    view = _view(request, await _owned_job(request, who.account.id))
    context = {"view": view, "refresh": REFRESH_SECONDS if view.running else 0}
    return await page(request, "settings_import_job.html", who, context)


@routes.get("/settings/import/{job_id}/progress")
async def job_progress(request: web.Request) -> web.Response:
    """The same, as JSON, for a script that polls (the page itself needs none)."""
    who = await require_viewer(request)
    view = _view(request, await _owned_job(request, who.account.id))
    job = view.job
    body = {
        "id": job.id,
        "kind": job.kind,
        "state": "failed" if view.interrupted else job.state,
        "done": job.done,
        "total": job.total,
        "summary": view.summary or None,
        "error": job.error or None,
    }
    response = web.json_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response
