"""A project's files: the cover image (part of the story) and, for equity campaigns, the
disclosure documents (locked once the project is submitted). Earlier uploads of a kind stay
as history; the newest one counts."""

import hashlib
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l

from ...domain.files import extension, normalise_content_type, sniff
from ...errors import ValidationError
from ...extensions import db
from ...models import ProjectDocument, ProjectKind, ProjectStatus as S
from .. import use_case
from ..transitions import PROJECT_STATUS_WORDS
from .access import EDITABLE, STORY_EDITABLE, require_member, require_status
from .editing import announce_edits, log_edit

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
PDF_TYPES = ("application/pdf",)
DOCUMENT_KINDS = {"cover": IMAGE_TYPES, "business_plan": PDF_TYPES, "financial_statements": PDF_TYPES}
DISCLOSURE_KINDS = ("business_plan", "financial_statements")
# What a person is told about each kind of upload.
WRONG_TYPE = {
    "cover": _l("The cover image must be a JPEG, PNG, WebP or GIF image."),
    "business_plan": _l("The business plan must be a PDF file."),
    "financial_statements": _l("The financial statements must be a PDF file."),
}
NOT_REALLY = {
    "cover": _l("This file is not really a JPEG, PNG, WebP or GIF image: its contents do not match its type."),
    "business_plan": _l("This file is not really a PDF file: its contents do not match its type."),
    "financial_statements": _l("This file is not really a PDF file: its contents do not match its type."),
}
DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def current_documents(project):
    """The newest document of each kind (earlier uploads stay as history)."""
    current = {}
    for doc in sorted(project.documents, key=lambda d: d.id or 0):
        current[doc.kind] = doc
    return current


def upload_dir():
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def document_path(document):
    return upload_dir() / document.stored_name


def _max_bytes(kind):
    if kind == "cover":
        return current_app.config.get("UPLOAD_MAX_IMAGE_BYTES", DEFAULT_MAX_IMAGE_BYTES)
    return current_app.config.get("UPLOAD_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES)


@use_case
def upload_document(user, project, kind, filename, content_type, stream):
    """Store an uploaded cover image or disclosure document.

    The declared content type must be allowed for the kind AND the file's first bytes must
    show that same type; the size is capped. The file is saved under instance/uploads/ with
    a random name. Earlier uploads of the same kind stay as history; the newest one counts.
    """
    require_member(user, project)
    if kind not in DOCUMENT_KINDS:
        raise ValidationError(
            _("Choose what kind of document this is."), fields={"kind": _("Choose what kind of document this is.")}
        )
    if kind in DISCLOSURE_KINDS:
        if project.kind != ProjectKind.EQUITY.value:
            raise ValidationError(
                _("Only equity projects have disclosure documents."),
                fields={"kind": _("Only equity projects have disclosure documents.")},
            )
        require_status(project, EDITABLE, _("Disclosure documents are locked once the project is submitted."))
    else:
        require_status(
            project,
            EDITABLE | STORY_EDITABLE,
            _(
                "This project is %(status)s, so it cannot be edited now.",
                status=PROJECT_STATUS_WORDS[S(project.status)],
            ),
        )
    allowed = DOCUMENT_KINDS[kind]

    def refuse(message):
        raise ValidationError(message, fields={"file": message})

    declared = normalise_content_type(content_type)
    if declared not in allowed:
        refuse(str(WRONG_TYPE[kind]))
    limit = _max_bytes(kind)
    content = stream.read(limit + 1)
    if not content:
        refuse(_("The file is empty."))
    if len(content) > limit:
        refuse(_("The file is too large: at most %(size)s MB.", size=f"{limit / 1024 / 1024:.3g}"))
    actual = sniff(content[:32])
    if actual != declared:
        refuse(str(NOT_REALLY[kind]))
    stored_name = secrets.token_urlsafe(24) + extension(actual)
    name = Path((filename or "").replace("\\", "/")).name.strip()[:200] or f"{kind}{extension(actual)}"
    previous = current_documents(project).get(kind)
    document = ProjectDocument(
        project=project,
        kind=kind,
        filename=name,
        stored_name=stored_name,
        content_type=actual,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by_id=user.id,
    )
    db.session.add(document)
    # The file is written before the commit; if the transaction rolls back it is an orphan
    # on disk with a random name, never a row pointing at a missing file.
    path = upload_dir() / stored_name
    with open(path, "xb") as out:
        out.write(content)
    if project.status in STORY_EDITABLE:
        announce_edits(project, [log_edit(user, project, kind, previous.filename if previous else "", name)])
    db.session.flush()
    return document
