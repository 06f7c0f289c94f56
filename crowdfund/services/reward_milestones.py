"""What a rise of a reward campaign's held total announces, whatever raised it: a new
pledge's hold (services/pledge_outcomes.py) or a change that makes a pledge larger
(services/pledge_changes.py). Called in the transaction that moved the total, with the
totals its UPDATE returned; only flushes.

- the stretch goals the new total reaches are stamped, and their mail queued, once;
- crossing the funding goal writes the campaign's goal notice, once (mailed after commit).

A fall of the total (a smaller pledge, a cancellation) announces nothing and undoes nothing:
a goal once reached stays reached.
"""

from ..models import ProjectKind
from . import goal_notices, stretch_goals


def total_rose(project_id, *, before, after, goal, now, **lowest_unreached):
    """The campaign's held total went from `before` to `after` (minor units). With
    `lowest_unreached=` (stretch_goals.LOWEST_UNREACHED, returned with the total), no
    statement is spent on stretch goals out of reach."""
    if after <= before:
        return []
    queued = stretch_goals.reached(project_id, before=before, after=after, goal=goal, now=now, **lowest_unreached)
    goal_notices.note_if_crossed(project_id, kind=ProjectKind.REWARD.value, before=before, after=after, goal=goal)
    return queued
