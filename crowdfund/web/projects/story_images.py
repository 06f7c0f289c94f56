"""Story images: the founder's upload on the editor page, and the images themselves, served as
covers are (public.py `document`): to whoever may see the campaign, with the same headers."""

from flask import abort, flash, redirect, send_from_directory, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from ...services.projects import access, documents, story_images
from ..forms import Form, submit_form
from . import bp
from .access import own_project_or_404


class StoryImageForm(Form):
    image = FileField(
        _l("Story image"),
        validators=[FileRequired(_l("Choose an image to upload."))],
        description=_l("JPEG, PNG, WebP or GIF. Large images are made smaller; their metadata is removed."),
        render_kw={"accept": "image/jpeg,image/png,image/webp,image/gif"},
    )
    submit = SubmitField(_l("Add the image"))


def editor_context(project, image_form=None):
    """What the editor page shows about story images: the list (with the Markdown to paste)
    and, while the story may change, the upload form."""
    can_add = project.status in access.EDITABLE | access.STORY_EDITABLE
    if can_add and image_form is None:
        image_form = StoryImageForm(formdata=None)
    return {
        "story_images": [(image, story_images.markdown_snippet(image)) for image in story_images.images_of(project)],
        "image_form": image_form if can_add else None,
    }


@bp.post("/projects/<int:project_id>/images")
@login_required
def add_story_image(project_id):
    from .editor import _render_editor  # the editor imports this module for editor_context

    project = own_project_or_404(project_id)
    if project.status not in access.EDITABLE | access.STORY_EDITABLE:
        flash(_("This project cannot be edited now."), "error")
        return redirect(url_for("projects.edit", project_id=project.id))
    form = StoryImageForm()

    def store():
        upload = form.image.data
        return story_images.add_image(current_user, project, upload.filename, upload.stream)

    outcome = submit_form(form, store)
    if outcome.done:
        flash(_("The image is added. Paste its Markdown into the description where it belongs."), "success")
        return redirect(url_for("projects.edit", project_id=project.id, _anchor="story-images"))
    return _render_editor(project, image_form=form, status=outcome.status)


@bp.get("/story-images/<name>")
def story_image(name):
    image = story_images.by_stored_name(name)
    if image is None:
        abort(404)
    project = access.get_project(image.project_id)
    if not access.can_view(current_user, project):
        abort(404)  # a draft's images: its founders and the reviewers only
    response = send_from_directory(
        documents.upload_dir(),
        image.stored_name,
        mimetype=image.content_type,
        as_attachment=False,
        download_name=image.filename,
        max_age=300,
    )
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
