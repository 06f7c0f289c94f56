"""The benchmark's CPU meter counts the CPU a process of a named kind spends, and only that.

The machine is shared (other tests, other work), so no figure of CPU seconds is asserted:
a busy process must be counted for far more than an idle one, nothing before it started,
and the meter's windows must add up."""

import subprocess
import sys
import time

import pytest

from bench import cpu

pytestmark = pytest.mark.skipif(not cpu.PROC.is_dir(), reason="reads /proc")

# Each child names its kind on its command line (a comment after the code).
BUSY = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\ntime.sleep(0.5)\n"
IDLE = "import time\ntime.sleep(1.0)\n"


def test_a_busy_process_is_counted_for_far_more_cpu_than_an_idle_one(monkeypatch):
    monkeypatch.setattr(cpu, "GROUPS", (("crowdfund-cpu-meter-busy", "busy"), ("crowdfund-cpu-meter-idle", "idle")))
    with cpu.CpuMeter(interval=0.05) as meter:
        time.sleep(0.2)  # seen idle first: both children fall in the window
        started = time.time()
        # Each child waits a moment between fork and exec, showing this process's command line:
        # the meter must look at it again once it names its kind.
        children = [
            subprocess.Popen(
                [sys.executable, "-c", f"{code}# crowdfund-cpu-meter-{kind}"], preexec_fn=lambda: time.sleep(0.3)
            )
            for kind, code in (("busy", BUSY), ("idle", IDLE))
        ]
        assert [child.wait(timeout=120) for child in children] == [0, 0]
        ended = time.time()
        time.sleep(0.1)
    spent = meter.between(started, ended)
    assert spent.get("busy", 0) > 0, spent
    assert spent["busy"] >= 5 * spent.get("idle", 0), spent
    assert meter.between(meter.timeline[0][0], started).get("busy", 0) == 0  # not before it started

    middle = started + (ended - started) / 2
    halves = meter.between(started, middle), meter.between(middle, ended)
    assert spent["busy"] == pytest.approx(sum(half.get("busy", 0) for half in halves), abs=0.02)


def test_cpu_per_item_is_in_milliseconds_and_leaves_out_idle_groups():
    assert cpu.per_item({"probe": 0.6, "idle": 0.0}, 3) == {"probe": 200.0}
    assert cpu.per_item({"probe": 0.6}, 0) == {}
