"""The conversation on a campaign page: posting, replying, reporting, the founders' FAQ pins,
and the links in its mail that stop it (services/comments.py, services/comment_mail.py)."""

from flask import Blueprint

bp = Blueprint("comments", __name__)

from . import views
