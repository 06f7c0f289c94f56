from flask import Blueprint

bp = Blueprint("settlement", __name__)

from . import views
