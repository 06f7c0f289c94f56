from flask import Blueprint

bp = Blueprint("projects", __name__)

# The views, by area; each module adds its routes to `bp`.
from . import campaign, close_early, dashboard, editor, equity, public, template_globals, tiers
