"""Mail people asked for: reminders before a deadline, and a backed campaign reaching its goal."""

from ..workflows import reminder_runs
from . import job


@job("send_reminders")
def send_reminders():
    return {"reminded": reminder_runs.send_due_reminders()}


@job("announce_goals", sweep=True)
def announce_goals():
    return {"announced": reminder_runs.announce_goals()}
