"""The conversation on a campaign page: posting, replying, reporting, the founders' FAQ pins
(services/comments.py, services/comment_mail.py; the links in its mail: web/notifications)."""

from flask import Blueprint

bp = Blueprint("comments", __name__)

from . import views
