from flask import Blueprint

bp = Blueprint("firms", __name__)

# The firms' own pages (views); a firm's public profile and its people (profile).
from . import profile, views
