"""Release on delivery's mail, written to the outbox in the caller's transaction (see
services/notifications.py for how mail goes out).

    shipped(project, shipment, deliveries) -> each backer: the carrier, the tracking number, and
                                              how to confirm receipt or report a problem
    problem_reported(delivery, pledge)     -> every admin: a backer's problem waits for them
    rewards_late(project, deliveries)      -> each of those backers, and every admin: rewards not
                                              shipped DELIVERY_GRACE_DAYS after their month
    delivery_refunded(delivery)            -> the backer: the held remainder was refunded
"""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Pledge, Project, User
from .mail_choices import external_url
from .mail_outbox import _queue_one


def _admins():
    return db.session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.id)).all()


def shipped(project, shipment, deliveries):
    days = current_app.config["DELIVERY_CONFIRM_DAYS"]
    for delivery in deliveries:
        pledge = db.session.get(Pledge, delivery.pledge_id)
        _queue_one(
            f"reward_shipped:{delivery.pledge_id}:{shipment.id}",
            pledge.backer,
            "mail/reward_shipped.txt",
            lambda: _("Your reward from %(title)s has shipped", title=project.title),
            project=project,
            pledge=pledge,
            shipment=shipment,
            days=days,
            link=external_url("pledges.receipt", pledge_id=pledge.id),
        )


def problem_reported(delivery, pledge):
    project = db.session.get(Project, delivery.project_id)
    for admin in _admins():
        _queue_one(
            f"delivery_problem:{delivery.pledge_id}:{admin.id}",
            admin,
            "mail/delivery_problem.txt",
            lambda: _("A backer of %(title)s reported a problem with their reward", title=project.title),
            project=project,
            pledge=pledge,
            reason=delivery.problem_reason,
            link=external_url("admin.deliveries_page"),
        )


def rewards_late(project, deliveries):
    for delivery in deliveries:
        pledge = db.session.get(Pledge, delivery.pledge_id)
        _queue_one(
            f"rewards_late:{delivery.pledge_id}",
            pledge.backer,
            "mail/rewards_late.txt",
            lambda: _("Your reward from %(title)s is late", title=project.title),
            project=project,
            pledge=pledge,
            due_month=delivery.due_month,
            link=external_url("pledges.receipt", pledge_id=pledge.id),
        )
    first = min(d.pledge_id for d in deliveries)
    for admin in _admins():
        _queue_one(
            f"rewards_late_admin:{project.id}:{first}:{admin.id}",
            admin,
            "mail/rewards_late_admin.txt",
            lambda: _("%(title)s has rewards that were not shipped in time", title=project.title),
            project=project,
            count=len(deliveries),
            link=external_url("admin.deliveries_page"),
        )


def delivery_refunded(delivery):
    pledge = db.session.get(Pledge, delivery.pledge_id)
    project = db.session.get(Project, delivery.project_id)
    return _queue_one(
        f"delivery_refunded:{delivery.pledge_id}",
        pledge.backer,
        "mail/delivery_refunded.txt",
        lambda: _("Money for your reward from %(title)s was refunded", title=project.title),
        project=project,
        pledge=pledge,
        amount=delivery.held_amount,
        currency=delivery.currency,
    )
