"""Images for a campaign's story: uploaded by its founders while the story may change (drafts,
approved and live campaigns), re-encoded on the server (domain/images.py), stored beside the
covers, and placed in the story's Markdown with the snippet `markdown_snippet` gives."""

import hashlib
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import func, select

from ...domain.images import ImageRefused, prepare
from ...domain.markup import STORY_IMAGE_PREFIX
from ...errors import ValidationError
from ...extensions import db
from ...models import ProjectStatus as S, StoryImage
from .. import use_case
from ..transitions import PROJECT_STATUS_WORDS
from .access import EDITABLE, STORY_EDITABLE, require_member, require_status
from .documents import upload_dir

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_COUNT = 20
DEFAULT_MAX_WIDTH = 1600


def _setting(key, default):
    return current_app.config.get(key, default)


def images_of(project):
    """The campaign's story images, oldest first."""
    return db.session.scalars(
        select(StoryImage).where(StoryImage.project_id == project.id).order_by(StoryImage.id)
    ).all()


def by_stored_name(stored_name):
    return db.session.scalars(select(StoryImage).where(StoryImage.stored_name == stored_name)).first()


def image_url(image):
    """The image's address, as the story links to it (the Markdown sanitiser keeps only these)."""
    return STORY_IMAGE_PREFIX + image.stored_name


def markdown_snippet(image):
    """What the founder pastes into the story: the alt text is the file's name, to be replaced
    with what the image shows."""
    alt = re.sub(r"[\[\]\\\n\r]+", " ", Path(image.filename).stem).strip() or "image"
    return f"![{alt}]({image_url(image)})"


def _refuse(message):
    raise ValidationError(message, fields={"file": message})


@use_case
def add_image(user, project, filename, stream):
    """Store an uploaded story image, re-encoded. The bytes decide what it is, never the name
    or the declared type; the size of the upload and the number per campaign are capped."""
    require_member(user, project)
    require_status(
        project,
        EDITABLE | STORY_EDITABLE,
        _("This project is %(status)s, so it cannot be edited now.", status=PROJECT_STATUS_WORDS[S(project.status)]),
    )
    max_count = _setting("STORY_IMAGE_MAX_COUNT", DEFAULT_MAX_COUNT)
    count = db.session.scalar(select(func.count()).select_from(StoryImage).where(StoryImage.project_id == project.id))
    if count >= max_count:
        _refuse(
            ngettext(
                "A campaign can have at most %(num)d story image.",
                "A campaign can have at most %(num)d story images.",
                max_count,
            )
        )
    limit = _setting("STORY_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES)
    content = stream.read(limit + 1)
    if not content:
        _refuse(_("The file is empty."))
    if len(content) > limit:
        _refuse(_("The file is too large: at most %(size)s MB.", size=f"{limit / 1024 / 1024:.3g}"))
    try:
        prepared = prepare(content, max_width=_setting("STORY_IMAGE_MAX_WIDTH", DEFAULT_MAX_WIDTH))
    except ImageRefused as refused:
        if refused.reason == "too_many_pixels":
            _refuse(_("This image has too many pixels. Make it smaller, then upload it again."))
        _refuse(_("This file is not a JPEG, PNG, WebP or GIF image that we can read."))
    stored_name = secrets.token_urlsafe(24) + prepared.extension
    name = Path((filename or "").replace("\\", "/")).name.strip()[:200] or f"image{prepared.extension}"
    image = StoryImage(
        project_id=project.id,
        filename=name,
        stored_name=stored_name,
        content_type=prepared.content_type,
        width=prepared.width,
        height=prepared.height,
        size=len(prepared.content),
        sha256=hashlib.sha256(prepared.content).hexdigest(),
        uploaded_by_id=user.id,
    )
    db.session.add(image)
    # Written before the commit, as covers are: a rollback leaves an orphan file with a
    # random name, never a row pointing at a missing file.
    with open(upload_dir() / stored_name, "xb") as out:
        out.write(prepared.content)
    db.session.flush()
    return image
