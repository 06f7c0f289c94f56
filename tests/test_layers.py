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


def test_each_entry_point_imports_on_its_own():
    """A fresh process imports the app as gunicorn and the CLI do: an import cycle that the
    suite's own import order hides shows here."""
    import subprocess
    import sys

    root = Path(crowdfund.__file__).parent.parent
    for module in ("wsgi", "crowdfund.services.projects.basics", "crowdfund.workflows.checkout"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, f"import {module}: {done.stderr[-600:]}"
