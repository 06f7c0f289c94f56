"""What a project needs before it can be reviewed, and submitting it for review."""

from flask_babel import gettext as _, lazy_gettext as _l

from ...domain.registration_numbers import registration_number_problem
from ...errors import ValidationError
from ...extensions import db
from ...models import ProjectKind, ProjectStatus as S
from .. import account_standing, use_case
from ..transitions import can_move, transition
from .access import lock, require_member
from .documents import DISCLOSURE_KINDS, current_documents
from .equity_terms import max_raise

UPLOAD_MISSING = {
    "business_plan": _l("Upload the business plan (PDF)."),
    "financial_statements": _l("Upload the financial statements (PDF)."),
}


def submission_problems(project):
    """What is missing before the project can be reviewed: {item: message}, empty when ready."""
    problems = {}
    firm = project.firm
    registration = registration_number_problem(firm.country, firm.registration_number)
    if registration:
        problems["firm"] = _(
            "The firm's registration number is not valid (%(problem)s) Correct it on the firm's page.",
            problem=registration,
        )
    if not (project.description or "").strip():
        problems["description"] = _("Describe the project.")
    if not (project.risks or "").strip():
        problems["risks"] = _("Describe the risks and challenges.")
    if not (project.use_of_funds or "").strip():
        problems["use_of_funds"] = _("Explain how the money will be used.")
    if project.kind == ProjectKind.REWARD.value:
        if not project.tiers:
            problems["tiers"] = _("Add at least one reward tier.")
    else:
        if project.equity is None:
            problems["equity"] = _("Enter the equity terms (price per share, shares offered and the rest).")
        elif project.goal > max_raise(project):
            problems["goal"] = _("The goal is more than selling every share offered would raise.")
        documents = current_documents(project)
        for kind in DISCLOSURE_KINDS:
            if kind not in documents:
                problems[kind] = str(UPLOAD_MISSING[kind])
    return problems


@use_case
def submit(user, project):
    require_member(user, project)
    account_standing.require_may_transact(user)
    project = lock(project)
    if not can_move(project, S.IN_REVIEW):
        transition(project, S.IN_REVIEW)  # raises IllegalTransition with the usual message
    problems = submission_problems(project)
    if problems:
        raise ValidationError(
            _("This project is not ready for review yet:") + " " + " ".join(problems.values()),
            code="incomplete",
            fields=problems,
        )
    transition(project, S.IN_REVIEW, actor=user, note="Submitted for review.")
    db.session.flush()
    return project
