"""At most WEB_ACTIVE_THREADS requests of a web process run at once; one waiting for the
payment processor steps out of the count meanwhile.

Why: a gthread worker serves WEB_THREADS requests at once (crowdfund/pools.py) so that a
request waiting 0.2-0.5 s for the processor does not hold up the process. Left alone, all of
those threads also compete for the CPU when the processor is quick: they take turns on
Python's one lock (a switch every 5 ms) and, on a popular reward tier, queue on its row lock
in PostgreSQL, where each waiter costs CPU of its own. So each process runs a few requests
at a time, about as many as its share of the cores can use, as sync workers would, and lets
the rest wait here, in line, before they start; while one waits for the processor, its slot
goes to the next in line. It comes back ahead of requests not yet started: it is half-way
through a pledge whose charge is already at the processor.

Nothing waits for a slot while holding one (re-entrant: a job run in-process after commit
may call the app's own WSGI stack, as the sandbox's webhook delivery does), and a request
coming back from the processor waits at most REJOIN_TIMEOUT for its slot, then goes on
without one: if it held a database lock across the processor call (none of our workflows
does; the checkout commits before it), the requests in the slots might be waiting for that
lock, and must not wait for it forever.

WEB_ACTIVE_THREADS 0 turns the gate off (every thread runs at once).
"""

import threading
from contextlib import contextmanager

EXTENSION = "request_gate"
REJOIN_TIMEOUT = 2.0  # seconds


class RequestGate:
    def __init__(self, slots):
        self.slots = slots
        self._free = slots
        self._rejoining = 0  # requests back from the processor, waiting: served first
        lock = threading.Lock()
        # Two lines on one lock, so that a freed slot wakes one waiter of the right line, not
        # every thread of the process (at thousands of cached pages a second, waking 14
        # threads to find one slot costs more than the pages).
        self._rejoiners = threading.Condition(lock)
        self._newcomers = threading.Condition(lock)
        self._local = threading.local()  # this thread's depth inside the gate

    # -- the slots ---------------------------------------------------------------------------
    def _take(self, *, rejoin, timeout=None):
        line = self._rejoiners if rejoin else self._newcomers
        with line:
            if rejoin:
                self._rejoining += 1
            try:
                took = line.wait_for(lambda: self._free > 0 and (rejoin or not self._rejoining), timeout)
            finally:
                if rejoin:
                    self._rejoining -= 1
            if took:
                self._free -= 1
            self._wake_next()  # more slots free (or the rejoiner gave up): the next in line
            return took

    def _give_back(self):
        with self._newcomers:
            self._free += 1
            self._wake_next()

    def _wake_next(self):
        """With the lock held: wake one waiter for a free slot, a rejoiner first. A waiter
        woken for nothing looks again and goes back to waiting."""
        if self._free > 0:
            (self._rejoiners if self._rejoining else self._newcomers).notify()

    @property
    def in_use(self):
        return self.slots - self._free

    # -- for requests ------------------------------------------------------------------------
    def wrap(self, wsgi_app):
        """WSGI middleware: the request runs in a slot. A streamed body is produced after the
        slot is given back, like the wait for a slow client."""

        def gated(environ, start_response):
            with self.inside():
                return wsgi_app(environ, start_response)

        return gated

    @contextmanager
    def inside(self):
        local = self._local
        depth = getattr(local, "depth", 0)
        if depth == 0:
            self._take(rejoin=False)
            local.slotless = False
        local.depth = depth + 1
        try:
            yield
        finally:
            local.depth -= 1
            if local.depth == 0 and not local.slotless:
                self._give_back()

    @contextmanager
    def stepped_out(self):
        """Around a wait that needs no CPU of ours (a call to the processor): the slot goes to
        the next request meanwhile. A no-op for a thread not in a slot (a job, the CLI)."""
        local = self._local
        if not getattr(local, "depth", 0) or local.slotless:
            yield
            return
        self._give_back()
        try:
            yield
        finally:
            # Without its slot back in time, it goes on outside the gate (see above).
            local.slotless = not self._take(rejoin=True, timeout=REJOIN_TIMEOUT)


def init_app(app):
    """Put the gate in front of the app, unless WEB_ACTIVE_THREADS is 0. Call it before the
    page cache's Front wraps the app: a cached page needs no database and less CPU than
    handing a turn from thread to thread, so it goes out without waiting in line; a page
    that must be rendered still waits for its turn behind the Front."""
    slots = int(app.config.get("WEB_ACTIVE_THREADS") or 0)
    if slots > 0:
        gate = app.extensions[EXTENSION] = RequestGate(slots)
        app.wsgi_app = gate.wrap(app.wsgi_app)


@contextmanager
def processor_wait(app):
    """Around a call to the payment processor made by `app`'s code: step out of its gate."""
    gate = app.extensions.get(EXTENSION)
    if gate is None:
        yield
    else:
        with gate.stepped_out():
            yield
