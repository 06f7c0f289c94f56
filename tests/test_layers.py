"""The layers keep their promise: a service only flushes, and asks for background work through
crowdfund/after_commit.py rather than importing a job (docs/ARCHITECTURE.md)."""

import ast
from pathlib import Path

import crowdfund

SERVICES = Path(crowdfund.__file__).parent / "services"


def _offences(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("commit", "rollback")
        ):
            yield f"{path.relative_to(SERVICES)}:{node.lineno} calls {node.func.attr}()"
        elif isinstance(node, ast.ImportFrom) and "jobs" in (node.module or "").split("."):
            yield f"{path.relative_to(SERVICES)}:{node.lineno} imports {node.module}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("crowdfund.jobs"):
                    yield f"{path.relative_to(SERVICES)}:{node.lineno} imports {alias.name}"


def test_no_service_commits_rolls_back_or_imports_a_job():
    assert [offence for path in sorted(SERVICES.rglob("*.py")) for offence in _offences(path)] == []
