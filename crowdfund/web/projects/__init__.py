from flask import Blueprint

bp = Blueprint("projects", __name__)

# The views, by area; each module adds its routes to `bp`.
from . import (
    add_ons,  # noqa: E402,F401  (a reward campaign's add-ons, on the editor)
    campaign,
    close_early,
    dashboard,
    editor,
    equity,
    funding,  # noqa: E402,F401  (stretch goals, funding-model words)
    key_information,  # noqa: E402,F401  (an equity offering's key investment information sheet)
    material_changes,  # noqa: E402,F401  (a founder marks a material change)
    public,
    shipments,  # noqa: E402,F401  (release on delivery: the founder's shipping page)
    story_images,
    template_globals,
    tiers,
)
