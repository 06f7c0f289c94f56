"""Funding models: whether a campaign's firm keeps what it raised below the goal.

- `all_or_nothing` (the default): at the deadline the money is released to the firm only if
  the goal is met; otherwise every pledge is returned.
- `flexible` (reward campaigns only): the firm keeps whatever was raised, goal met or not.

The words stored in `projects.funding_model` never change; these are what a person reads.
"""

from flask_babel import lazy_gettext as _l

ALL_OR_NOTHING, FLEXIBLE = "all_or_nothing", "flexible"

FUNDING_MODEL_LABELS = {
    ALL_OR_NOTHING: _l("All or nothing"),
    FLEXIBLE: _l("Flexible funding"),
}
FUNDING_MODEL_EXPLAINED = {
    ALL_OR_NOTHING: _l(
        "The firm receives the money only if the goal is met by the deadline; otherwise every backer gets it all back."
    ),
    FLEXIBLE: _l("Flexible funding: the firm keeps what is raised at the deadline, even if the goal is not met."),
}


def funding_model_label(model):
    return FUNDING_MODEL_LABELS.get(model, model)


def funding_model_explained(model):
    return FUNDING_MODEL_EXPLAINED.get(model, model)


def is_flexible(project):
    return getattr(project, "funding_model", ALL_OR_NOTHING) == FLEXIBLE


def releases_at_deadline(funding_model, raised, goal):
    """Does a campaign that raised `raised` against `goal` pay its firm at the deadline?
    A flexible one does whenever anything was raised (an empty one has nothing to release)."""
    if raised >= goal:
        return True
    return funding_model == FLEXIBLE and raised > 0


def kept_below_goal(project):
    """A campaign that paid its firm although the goal was not met (flexible funding)."""
    return project.status == "successful" and is_flexible(project) and project.pledged_amount < project.goal
