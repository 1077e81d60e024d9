"""Upload a claims.yaml, see what importing it would do, then confirm or cancel; export the database.

The upload is previewed by the real import, rolled back (tracker.claimsfile.preview),
and waits in the database (tracker.staging) for the confirm, which may reach another
web process. The confirm form carries the fingerprint of the database the preview saw:
if the database changed since, nothing is imported and a fresh preview is shown.
Editors and admins only.
"""

from __future__ import annotations

import secrets
import unicodedata
from pathlib import PurePath

from flask import Blueprint, Response, abort, flash, redirect, url_for
from sqlalchemy import delete
from werkzeug.wrappers import Response as BaseResponse

from tracker.claimsfile import export_claims
from tracker.claimsfile.preview import Preview, confirm, content_digest, preview
from tracker.errors import InvalidInput, describe
from tracker.staging import PENDING_FOR, PendingImport
from tracker.web.forms import ButtonForm, ConfirmImportForm, ImportForm, problems_of
from tracker.web.rendering import page
from tracker.web.security import editor_required
from tracker.web.state import db, now, state, viewer

bp = Blueprint("imports", __name__)

# A claims file is larger than any form: the upload alone may be this big (MAX_CONTENT_LENGTH
# stays at 1 MB for everything else). tracker's claims_max_bytes, when smaller, still applies.
IMPORT_MAX_BYTES = 16 * 1024 * 1024
# Entries listed per kind of change on the preview; the counts above them are complete.
LISTED = 200


def _file_name(uploaded: str | None) -> str:
    """The uploaded file's own name (no folders), for the problems' file:line; claims.yaml if none.

    Control and format characters go (a right-to-left override in a name would turn the
    text after it on every page and message that names the file).
    """
    visible = "".join(ch for ch in (uploaded or "") if not unicodedata.category(ch).startswith("C"))
    name = PurePath(visible.replace("\\", "/")).name.strip()
    return name[:255] or "claims.yaml"


def _show(result: Preview, *, token: str | None, status: int = 200, changed: bool = False) -> Response:
    problems = describe(InvalidInput(result.problems)) if result.problems else None
    return page(
        "web/import_preview.html",
        status=status,
        preview=result,
        problems=problems,
        report=result.report,
        detail=result.report.detail if result.report else None,
        token=token,
        confirm=ConfirmImportForm(seen=result.fingerprint),
        button=ButtonForm(),
        changed=changed,
        listed=LISTED,
        title=f"Import {result.file_name}: preview",
    )


@bp.route("/import", methods=["GET", "POST"])
@editor_required
def upload() -> Response:
    """The upload form; a POSTed file is previewed, and waits for its confirm if it has no problems."""
    form = ImportForm()
    if not form.is_submitted():
        return page("web/import.html", form=form, problems={}, title="Import a claims file")
    if not form.validate():
        return page(
            "web/import.html", status=400, form=form, problems=problems_of(form), title="Import a claims file"
        )
    content = form.file.data.read()
    name = _file_name(form.file.data.filename)
    session, moment, settings = db(), now(), state().app.settings
    result = preview(session, content, name, settings=settings, now=moment)
    if result.problems:
        return _show(result, token=None, status=400)  # nothing is kept: there is nothing to confirm
    who = viewer()
    assert who is not None
    session.execute(delete(PendingImport).where(PendingImport.created_at < moment - PENDING_FOR))
    token = secrets.token_urlsafe(32)
    session.add(
        PendingImport(
            token=token,
            reviewer_id=who.id,
            file_name=name,
            content=content,
            content_sha256=content_digest(content),
            created_at=moment,
        )
    )
    return _show(result, token=token)


def _pending(token: str) -> PendingImport:
    """The viewer's upload waiting under `token`: 404 if there is none, 410 (and gone) once expired."""
    who = viewer()
    pending = db().get(PendingImport, token)
    if pending is None or who is None or pending.reviewer_id != who.id:
        abort(404, "There is no upload waiting here: it was imported or cancelled. Upload the file again.")
    if pending.created_at < now() - PENDING_FOR:
        db().delete(pending)
        abort(410, "This preview is more than an hour old and has been discarded. Upload the file again.")
    if content_digest(pending.content) != pending.content_sha256:
        db().delete(pending)
        abort(409, "The stored upload is not the file that was previewed. Upload the file again.")
    return pending


@bp.route("/import/<token>/confirm", methods=["POST"])
@editor_required
def confirm_import(token: str) -> Response | BaseResponse:
    """Import the previewed file, unless the database changed since the preview (then preview again)."""
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400, "The confirm form is incomplete. Upload the file again.")
    pending = _pending(token)
    session, seen = db(), form.seen.data or ""
    result, imported = confirm(
        session, pending.content, pending.file_name, seen, settings=state().app.settings, now=now()
    )
    changed = result.fingerprint != seen
    if imported and result.report is not None:
        session.delete(pending)
        report = result.report
        flash(
            f"Imported {pending.file_name}: {report.created} claims added, {report.updated} updated, "
            f"{report.unchanged} unchanged. The public scorecards catch up within a few minutes."
        )
        return redirect(url_for("imports.upload"))
    if result.problems:
        session.delete(pending)  # it cannot be imported as it is: nothing to confirm any more
        return _show(result, token=None, status=400, changed=changed)
    return _show(result, token=token, status=409, changed=changed)


@bp.route("/import/<token>/cancel", methods=["POST"])
@editor_required
def cancel_import(token: str) -> BaseResponse:
    """Discard the waiting upload; nothing was imported."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    who = viewer()
    pending = db().get(PendingImport, token)
    if pending is not None and who is not None and pending.reviewer_id == who.id:
        db().delete(pending)
    flash("Cancelled: nothing was imported.")
    return redirect(url_for("imports.upload"))


@bp.route("/export/claims.yaml")
@editor_required
def export() -> Response:
    """The whole database as claims.yaml, as `tracker export` writes it, to download."""
    text = export_claims(db())
    return Response(
        text,
        content_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="claims.yaml"'},
    )


def upload_limit(endpoint: str | None) -> int | None:
    """The request size limit for `endpoint`: larger for the upload, None for the app's default."""
    return IMPORT_MAX_BYTES if endpoint == "imports.upload" else None
