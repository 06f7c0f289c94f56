"""Story images: upload one for a campaign's story, list them."""

from flask import url_for

from ..errors import PermissionDenied
from ..services.projects import access, story_images
from .projects import visible_project
from .registry import operation
from .schemas import COUNT, ID, STRING, obj
from .serializers import iso

STORY_IMAGE_UPLOAD = obj(
    {"file": {"type": "string", "format": "binary", "description": "A JPEG, PNG, WebP or GIF image."}},
    description="The bytes decide what the file is, not its name or declared type.",
)
STORY_IMAGE = obj(
    {
        "id": ID,
        "url": {**STRING, "description": "Where the image is served (to whoever may see the campaign)."},
        "markdown": {
            **STRING,
            "description": "The line to put in the story's `description`; the alt text in brackets is the file's "
            "name: replace it with what the image shows. The story shows only images of ours.",
        },
        "filename": STRING,
        "content_type": {"type": "string", "enum": ["image/jpeg", "image/png"]},
        "width": COUNT,
        "height": COUNT,
        "size": COUNT,
        "uploaded_at": {"type": "string", "format": "date-time"},
    }
)
STORY_IMAGE_LIST = obj({"items": {"type": "array", "items": STORY_IMAGE, "description": "Oldest first."}})


def _image(image):
    return {
        "id": image.id,
        "url": url_for("projects.story_image", name=image.stored_name, _external=True),
        "markdown": story_images.markdown_snippet(image),
        "filename": image.filename,
        "content_type": image.content_type,
        "width": image.width,
        "height": image.height,
        "size": image.size,
        "uploaded_at": iso(image.uploaded_at),
    }


@operation(
    "POST",
    "/projects/{project_id}/images",
    tag="projects",
    summary="Upload an image for the story",
    description="The firm's people, while the story may change (drafts, approved and live campaigns; 422 "
    "`locked` otherwise). The image is turned upright, scaled down to `STORY_IMAGE_MAX_WIDTH` pixels and written "
    "anew without its metadata (JPEG, or PNG when it has transparency). 422 names `file` when it is not "
    "an image we can read, is larger than `STORY_IMAGE_MAX_BYTES`, or the campaign has "
    "`STORY_IMAGE_MAX_COUNT` already.",
    multipart=STORY_IMAGE_UPLOAD,
    status=201,
    response=STORY_IMAGE,
    errors=(403,),
)
def upload_story_image(call, project_id):
    project = visible_project(call.user, project_id)
    upload = call.files["file"]
    return _image(story_images.add_image(call.user, project, upload.filename, upload.stream))


@operation(
    "GET",
    "/projects/{project_id}/images",
    tag="projects",
    summary="The story's images (the firm's people)",
    response=STORY_IMAGE_LIST,
    errors=(403,),
)
def list_story_images(call, project_id):
    project = visible_project(call.user, project_id)
    if not access.is_member(call.user, project):
        raise PermissionDenied("Only the people of the project's firm can do that.")
    return {"items": [_image(image) for image in story_images.images_of(project)]}
