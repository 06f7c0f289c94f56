"""The benchmark's CPU meter counts the CPU a process of a named kind spends, and only that."""
import subprocess
import sys
import time

import pytest

from bench import cpu

pytestmark = pytest.mark.skipif(not cpu.PROC.is_dir(), reason="reads /proc")


def test_cpu_spent_by_a_process_of_a_named_kind_is_counted_in_its_window(monkeypatch):
    monkeypatch.setattr(cpu, "GROUPS", (("crowdfund-cpu-meter-probe", "probe"),))
    busy = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\n"
    with cpu.CpuMeter(interval=0.05) as meter:
        time.sleep(0.2)  # seen idle first: the whole busy stretch falls in the window
        started = time.time()
        # The child waits a moment between fork and exec, showing this process's command line:
        # the meter must look at it again once it names its kind.
        subprocess.run([sys.executable, "-c", busy + "# crowdfund-cpu-meter-probe"], check=True,
                       preexec_fn=lambda: time.sleep(0.3))  # noqa: PLW1509 - a sleep only
        ended = time.time()
        time.sleep(0.1)
    spent = meter.between(started, ended)
    assert 0.4 <= spent["probe"] <= 0.9, spent
    assert meter.between(ended + 0.05, time.time()).get("probe", 0) == pytest.approx(0, abs=0.05)
    assert cpu.per_item({"probe": 0.6}, 3) == {"probe": 200.0}
