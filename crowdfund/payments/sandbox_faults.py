"""Injected faults for the sandbox processor (tests): see `SandboxGateway.faults`."""

import random
import threading

# What the processor says with each refusal `refuse` can inject (Stripe's words).
REFUSALS = {
    "balance_insufficient": "You have insufficient available funds in your account: the payments you received "
    "are still pending.",
}
REFUSED = "refused"  # the status the sandbox records a refused operation with


def refusal_message(code, kind):
    return REFUSALS.get(code, f"The sandbox processor refused this {kind} ({code}).")


class FaultPlan:
    """Makes the sandbox fail, for tests: transiently (a rate, or the next N calls), or with
    a refusal the processor would give (`refuse`)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.rate = 0.0
            self.fail_next = 0
            self.kinds = {"charge", "refund", "payout", "retrieve", "cancel"}
            self.after_commit = False  # fail *after* recording: the reply is lost, the work is done
            self.refusals = []  # [(kind, code)], the next calls of `kind` refused with `code`, in order
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

    def refuse(self, kind, code, *, times=1):
        """The next `times` calls of `kind` are refused with the error `code`, a permanent
        GatewayError as the processor would answer: ("payout", "balance_insufficient")."""
        with self._lock:
            self.refusals += [(kind, code)] * times

    def refusal(self, kind):
        """The error code of the refusal due for this call of `kind` (used up), or None."""
        with self._lock:
            for index, (refused_kind, code) in enumerate(self.refusals):
                if refused_kind == kind:
                    del self.refusals[index]
                    return code
            return None

    def active(self):
        with self._lock:
            return self.rate > 0 or self.fail_next > 0 or bool(self.refusals)

    def should_fail(self, kind):
        with self._lock:
            if kind not in self.kinds:
                return False
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return self.rate > 0 and self._random.random() < self.rate
