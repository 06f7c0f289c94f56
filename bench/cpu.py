"""CPU time used on this machine while a step runs, by kind of process (web, PostgreSQL, ...).

A step's throughput on a small machine is bounded by the CPU all its parts share; this says
which part used it. Linux only (/proc); elsewhere it measures nothing.
"""

import os
import threading
import time
from pathlib import Path

# The first pattern found in a process's command line names its group.
GROUPS = (
    ("gunicorn", "web (gunicorn)"),
    ("celery", "mail worker (celery)"),
    ("postgres", "PostgreSQL"),
    ("bench.loadgen", "load generator"),
    ("bench.pledge_floor", "plain-SQL floor"),
    ("redis-server", "Redis"),
)
PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _group(pid):
    try:
        command = (PROC / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    return next((name for pattern, name in GROUPS if pattern in command), None)


def _cpu_seconds(pid):
    try:
        fields = (PROC / pid / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


class CpuMeter:
    """`with CpuMeter() as meter: ...`, then `meter.between(t0, t1)`: {group: CPU seconds used
    from t0 to t1 (time.time())}, to the nearest sample.

    Samples every `interval` seconds; a process that starts meanwhile is counted from when it
    is first seen (its first moments may be missed), one that ends up to its last sample."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self.timeline = []  # [(time, {group: CPU seconds since the meter started})]
        self._seen = {}  # pid of a named group -> [group, CPU when first seen, CPU when last seen]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        if not PROC.is_dir():
            return
        for entry in os.scandir(PROC):
            if not entry.name.isdigit():
                continue
            known = self._seen.get(entry.name)
            if known is None:
                # Not one of ours yet, or not yet: a child between fork and exec still shows its
                # parent's command line, so it is looked at again until it names a group.
                group = _group(entry.name)
                if group is not None:
                    cpu = _cpu_seconds(entry.name)
                    if cpu is not None:
                        self._seen[entry.name] = [group, cpu, cpu]
            else:
                known[2] = _cpu_seconds(entry.name) or known[2]
        totals = {}
        for group, first, last in self._seen.values():
            totals[group] = totals.get(group, 0.0) + last - first
        self.timeline.append((time.time(), totals))

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
        return False

    def _at(self, moment):
        return min(self.timeline, key=lambda sample: abs(sample[0] - moment))[1] if self.timeline else {}

    def between(self, start, end):
        before, after = self._at(start), self._at(end)
        return {group: round(after[group] - before.get(group, 0.0), 2) for group in sorted(after)}


def per_item(seconds, count):
    """{group: CPU milliseconds per item} from {group: CPU seconds} over `count` items."""
    return {group: round(1000 * spent / count, 1) for group, spent in seconds.items() if spent > 0} if count else {}
