"""Injected faults for the sandbox processor (tests): see `SandboxGateway.faults`."""
import random
import threading


class FaultPlan:
    """Makes the sandbox fail transiently, for tests: a rate, or the next N calls."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.rate = 0.0
            self.fail_next = 0
            self.kinds = {"charge", "refund", "payout", "retrieve", "cancel"}
            self.after_commit = False  # fail *after* recording: the reply is lost, the work is done
            self._random = random.Random(0)

    def configure(self, *, rate=None, fail_next=None, kinds=None, after_commit=None, seed=0):
        with self._lock:
            if rate is not None:
                self.rate = rate
            if fail_next is not None:
                self.fail_next = fail_next
            if kinds is not None:
                self.kinds = set(kinds)
            if after_commit is not None:
                self.after_commit = after_commit
            self._random = random.Random(seed)

    def active(self):
        with self._lock:
            return self.rate > 0 or self.fail_next > 0

    def should_fail(self, kind):
        with self._lock:
            if kind not in self.kinds:
                return False
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return self.rate > 0 and self._random.random() < self.rate
