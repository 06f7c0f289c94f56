"""bench/RESULTS.md: a run rewrites its own figures and keeps what was measured by hand."""

from bench import latency, run

PREVIOUS = """# Benchmark results

| Benchmark | Result |
|---|---|
| old row | 1 |

## What was measured

- old text

## Also measured (by hand, 2026-12-04)

An interleaved A/B.

| run | old | new |
|---|---|---|
| 1 | 98 | 126 |

## Also measured (by hand, 2026-12-09: worker models)

gthread against gevent.

## Raw figures

```json
{"old": 1}
```
"""


def test_the_sections_measured_by_hand_are_kept_and_nothing_else():
    kept = "\\n".join(run.kept_sections(PREVIOUS))
    assert kept.startswith("## Also measured (by hand, 2026-12-04)")
    assert "| 1 | 98 | 126 |" in kept and "## Also measured (by hand, 2026-12-09: worker models)" in kept
    assert "old row" not in kept and "old text" not in kept and "Raw figures" not in kept
    assert run.kept_sections(None) == []


def pledging_run(rate, p99_ms, rss_mb, lost=0):
    return {
        "pledges_per_s": rate,
        "p50_ms": p99_ms / 2,
        "p99_ms": p99_ms,
        "check": {"lost": lost},
        "web": {"rss_mb": rss_mb, "processes": 6},
    }


def test_a_run_with_latency_meets_the_bar_by_rate_or_by_its_share_of_the_run_without():
    fast = pledging_run(110, 900, 700)
    assert latency.met(pledging_run(105, 1500, 700), fast)  # >= 100/s, p99 < 2 s
    assert latency.met(pledging_run(90, 2500, 700), fast)  # CPU-bound: >= 80% of the same run without
    assert not latency.met(pledging_run(80, 2500, 700), fast)  # neither
    assert not latency.met(pledging_run(105, 1500, 1100), fast)  # the web processes over 1 GB
    assert not latency.met(pledging_run(105, 1500, 700, lost=1), fast)


def test_each_run_with_latency_sits_beside_the_same_run_without():
    results = {
        "sizes": {"pledge_projects": 20, "hot_units": 1000, "backers": 200},
        "latency_s": 0.3,
        "pledging": {"spread_api": pledging_run(120, 800, 650), "spread_api_latency": pledging_run(104, 1700, 690)},
    }
    [row] = latency.rows(results)
    assert row[0] == "Pledging with a 0.3 s processor, 200 API clients over 20 campaigns (JSON API)"
    assert row[1].startswith("104 pledges/s (p50 0.85 s, p99 1.70 s); lost 0; web RSS 690 MB in 6 processes")
    assert row[2].startswith("no latency: 120 pledges/s") and row[3] == "87%" and row[5] == "yes"
