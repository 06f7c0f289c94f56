"""The base of the sandbox's mixins (refunds, disputes, accounts): what they use of
SandboxGateway (crowdfund/payments/sandbox.py), declared for the type checker only. At run
time the class is empty; SandboxGateway, which mixes them in, gives all of it."""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .base import PaymentGateway

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.engine import Connection, Engine

    from .sandbox_faults import FaultPlan


class SandboxHost(PaymentGateway):
    if TYPE_CHECKING:
        app: Flask
        faults: FaultPlan

        def _engine(self) -> Engine: ...
        def _call(self, kind: str) -> None: ...
        def _wait(self) -> None: ...
        def _fault(self, kind: str, *, after: bool) -> None: ...
        def _queue_events(self, conn: Connection, events: list[tuple[str, Mapping[str, Any]]]) -> int: ...
        def _events_recorded(self) -> None: ...
        def _record(
            self,
            kind: str,
            idempotency_key: str,
            params: Mapping[str, Any],
            decide: Callable[[Connection], Mapping[str, Any]],
            *,
            look_first: bool = True,
            events: Callable[[Mapping[str, Any]], list[Any]] | None = None,
        ) -> Mapping[str, Any]: ...
        def operation(self, ref: str) -> dict[str, Any] | None: ...
        def public_url(self, endpoint: str, path: str, **values: Any) -> str: ...
