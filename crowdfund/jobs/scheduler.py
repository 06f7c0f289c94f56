"""The in-process deadline scheduler for `make run` (no Celery or cron needed).

A daemon thread that sleeps until the next campaign deadline (or `SCHEDULER_INTERVAL`
seconds, whichever is sooner), then closes and settles what is due in an app context
(`workflows/closing.close_and_settle`, as the CLI and Celery beat do); now and then also
reconcile, the resume of settlements whose payout came due, and the reminders due before a
deadline (with the goal-reached mail a lost sweep left).
`create_app` starts it only when `SCHEDULER_ENABLED` is true; tests never get one unless
they ask. `close_due` is safe to run concurrently, so several web processes each running
a scheduler is harmless; inside one process it starts once, and never in the reloader's
watching parent process (only in the child that serves).
"""

import logging
import os
import sys
import threading
import time

from flask.helpers import get_debug_flag
from werkzeug.serving import is_running_from_reloader

from ..domain.clock import utcnow
from ..extensions import db
from . import PERIODIC

log = logging.getLogger(__name__)
_lock = threading.Lock()
_running = None  # the process's scheduler, if one was started


class DeadlineScheduler:
    def __init__(self, app):
        self.app = app
        self.interval = float(app.config.get("SCHEDULER_INTERVAL", 5))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="deadline-scheduler", daemon=True)
        self.runs = 0
        self.reconcile_every = float(app.config.get("PLEDGE_RECONCILE_INTERVAL", 60))
        self.next_reconcile = 0.0  # monotonic time of the next reconcile run
        self.resume_every = float(PERIODIC["resume_settlements"])
        self.next_resume = 0.0  # monotonic time of the next run of due settlements (at start: after a crash)
        self.deliveries_every = float(app.config.get("DELIVERY_SWEEP_INTERVAL", 3600))
        self.next_deliveries = 0.0  # monotonic time of the next delivery sweep (jobs/deliveries.py)
        self.remind_every = float(PERIODIC["send_reminders"])
        self.next_remind = 0.0  # monotonic time of the next run of due reminders and goal mail

    def start(self):
        self.thread.start()
        return self

    def stop(self, timeout=5):
        self.stopped.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout)

    def run_once(self):
        """Close and settle what is due, and return how long to sleep before the next run."""
        from ..services.campaigns import next_deadline
        from ..workflows.closing import close_and_settle

        with self.app.app_context():
            try:
                closed = close_and_settle().closed  # settled in this thread when there is no broker
                if closed:
                    log.info("closed %d campaign(s) at their deadline", closed)
                upcoming = next_deadline()
            except Exception:
                db.session.rollback()
                log.exception("closing due campaigns failed; trying again in %ss", self.interval)
                upcoming = None
            finally:
                db.session.remove()
        self._reconcile_when_due()
        self.runs += 1
        if upcoming is None:
            return self.interval
        return max(0.0, min(self.interval, (upcoming - utcnow()).total_seconds()))

    def _reconcile_when_due(self):
        """Finish open pledges (a lost webhook, an abandoned 3-D Secure) every so often, run
        the settlements whose payout came due (and any a crash left), and retry the sandbox's
        webhooks that are due (with Celery, beat does all three)."""
        work = []
        if self.app.config.get("PAYMENT_GATEWAY") == "sandbox":
            from .sandbox_webhooks import deliver_due

            work.append(("delivering the sandbox's webhooks", lambda: deliver_due(self.app)))
        if time.monotonic() >= self.next_reconcile:
            self.next_reconcile = time.monotonic() + self.reconcile_every
            from .pledges import reconcile_pledges

            work.append(("reconciling pledges", reconcile_pledges))
        if time.monotonic() >= self.next_resume:
            self.next_resume = time.monotonic() + self.resume_every
            from .settlement import resume

            work.append(("resuming due settlements", resume))
        if time.monotonic() >= self.next_deliveries:
            self.next_deliveries = time.monotonic() + self.deliveries_every
            from .deliveries import sweep_deliveries

            work.append(("sweeping deliveries", sweep_deliveries))
        if time.monotonic() >= self.next_remind:
            self.next_remind = time.monotonic() + self.remind_every
            from .reminders import announce_goals, send_reminders

            work.append(("sending due reminders", send_reminders))
            work.append(("announcing goals reached", announce_goals))
        for what, run in work:
            with self.app.app_context():
                try:
                    run()
                except Exception:
                    db.session.rollback()
                    log.exception("%s failed; trying again on the next run", what)
                finally:
                    db.session.remove()

    def _loop(self):
        while not self.stopped.is_set():
            wait = self.run_once()
            # A deadline that has just passed is closed on the next run; never spin.
            self.stopped.wait(max(wait, 0.05))


def _reloader_parent():
    """True in the process that only watches files for `flask run --reload`/`--debug`."""
    if is_running_from_reloader() or os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        return False
    args = sys.argv[1:]
    if "run" not in args or "--no-reload" in args:
        return False
    return "--reload" in args or "--debug" in args or get_debug_flag()


def start_scheduler(app):
    """Start the scheduler for `app` if enabled and none runs in this process; return it or None."""
    global _running
    if not app.config.get("SCHEDULER_ENABLED") or _reloader_parent():
        return None
    with _lock:
        if _running is not None and _running.thread.is_alive() and not _running.stopped.is_set():
            return None
        _running = DeadlineScheduler(app).start()
    app.extensions["deadline_scheduler"] = _running
    return _running
