from flask import Blueprint

bp = Blueprint("pledges", __name__)

from . import views
