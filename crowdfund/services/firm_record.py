"""A firm's public record: its registered details, the people its founders name, and every
campaign it ran in public with the outcome. This is what a backer reads before trusting a
firm with money; the firm's own page (its payouts, locked details) stays its people's.

A firm is public once it has a campaign with a public page (live or ended); before that its
page answers 404 to anyone outside it, as a draft's does.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import PermissionDenied, ValidationError
from ..extensions import db
from ..models import FirmPerson, Project, utcnow
from . import use_case
from .projects.access import VIEWABLE

NAME_MAX = ROLE_MAX = 120
MAX_PEOPLE = 30


@dataclass(frozen=True)
class CampaignRecord:
    id: int
    slug: str
    title: str
    kind: str
    status: str
    currency: str
    goal: int
    pledged: int  # held, or released once successful: the running total of its pledges
    backers: int
    launched_at: object
    ended_at: object  # closed_at: None while live


def is_public(firm):
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Project)
            .where(Project.firm_id == firm.id, Project.status.in_(sorted(VIEWABLE)))
        )
        > 0
    )


def campaigns(firm):
    """Every campaign of `firm` with a public page, the latest launched first."""
    rows = db.session.scalars(
        select(Project)
        .where(Project.firm_id == firm.id, Project.status.in_(sorted(VIEWABLE)))
        .order_by(Project.launched_at.desc().nulls_last(), Project.id.desc())
    ).all()
    return [
        CampaignRecord(
            p.id,
            p.slug,
            p.title,
            p.kind,
            p.status,
            p.currency,
            p.goal,
            p.pledged_amount,
            p.backer_count,
            p.launched_at,
            p.closed_at,
        )
        for p in rows
    ]


def people(firm):
    return db.session.scalars(
        select(FirmPerson).where(FirmPerson.firm_id == firm.id).order_by(FirmPerson.position, FirmPerson.id)
    ).all()


def _require_member(user, firm):
    if not (getattr(user, "is_authenticated", False) and firm.has_member(user)):
        raise PermissionDenied(_("Only the firm's people can change who it names."))


def _clean(text, limit, field, *, required):
    text = " ".join((text or "").split())
    if required and not text:
        message = _("Write the person's name.")
        raise ValidationError(message, fields={field: message})
    if len(text) > limit:
        message = _("Write at most %(num)d characters.", num=limit)
        raise ValidationError(message, fields={field: message})
    return text


@use_case
def add_person(user, firm, name, role=""):
    """Name one of the firm's people (and their role) on its public profile."""
    _require_member(user, firm)
    name = _clean(name, NAME_MAX, "name", required=True)
    role = _clean(role, ROLE_MAX, "role", required=False)
    named = people(firm)
    if len(named) >= MAX_PEOPLE:
        message = _("A firm names at most %(num)d people.", num=MAX_PEOPLE)
        raise ValidationError(message, fields={"name": message})
    person = FirmPerson(
        firm_id=firm.id,
        name=name,
        role=role,
        created_at=utcnow(),
        position=max((p.position for p in named), default=0) + 1,
    )
    db.session.add(person)
    db.session.flush()
    return person


@use_case
def remove_person(user, firm, person_id):
    _require_member(user, firm)
    person = db.session.get(FirmPerson, person_id) if type(person_id) is int and 0 < person_id < 2**31 else None
    if person is not None and person.firm_id == firm.id:
        db.session.delete(person)
        db.session.flush()
