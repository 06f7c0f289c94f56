"""`make bench` at tiny sizes: the same code paths (its own database, COPY seeding, gunicorn,
the load generator and floors in processes of their own, settlement in a worker, the
ledger check), in seconds, so the benchmark cannot rot between runs."""

import pytest

from bench import run
from crowdfund.pools import DEFAULT_WEB_THREADS
from tests.conftest import PG_SERVER_URL

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]


def test_the_benchmark_runs_end_to_end_at_tiny_sizes(monkeypatch):
    monkeypatch.setenv("BENCH_PG_URL", PG_SERVER_URL)
    results = run.main(["--smoke"])

    page = results["project_page"]
    for key in ("floor", "page", "cached", "hot"):
        assert page[key]["requests"] > 0 and set(page[key]["statuses"]) == {"200"}, page[key]
    for key in ("discover", "discover_browse"):
        assert results[key]["requests"] > 0 and set(results[key]["statuses"]) == {"200"}, results[key]

    pledging = results["pledging"]
    for key in ("spread_page_post", "spread_post", "hot_page_post", "floor_spread", "floor_hot"):
        run_ = pledging[key]
        assert run_["acknowledged"] > 0 and run_["errors"] == 0, run_
        assert run_["check"]["lost"] == 0 and run_["check"]["duplicates"] == 0, run_
    for key in ("hot_page_post", "floor_hot"):
        check = pledging[key]["check"]
        assert check["oversold"] == 0 and check["counter_drift"] == 0, check
        assert check["units_in_pledges"] == check["quantity"], check  # it did sell out

    # The JSON API runs, and the same with the sandbox taking 0.3 s (± 30%) a call, on gthread
    # workers with production's threads; the web processes' memory measured in each.
    assert (results["worker_class"], results["threads"]) == ("gthread", DEFAULT_WEB_THREADS)
    for key in ("spread_api", "hot_api", "spread_api_latency", "hot_api_latency"):
        run_ = pledging[key]
        assert run_["acknowledged"] > 0 and run_["errors"] == 0, run_
        assert run_["check"]["lost"] == 0 and run_["check"]["duplicates"] == 0, run_
        assert run_["web"]["processes"] == 3 and 0 < run_["web"]["rss_mb"] < 1024, run_["web"]  # master + 2 workers
    for key in ("spread_api_latency", "hot_api_latency"):
        assert pledging[key]["p50_ms"] >= 0.7 * 300, pledging[key]  # every pledge waited for the processor
    for key in ("hot_api", "hot_api_latency"):
        check = pledging[key]["check"]
        assert check["oversold"] == 0 and check["counter_drift"] == 0, check
        assert check["units_in_pledges"] == check["quantity"], check

    settlement = results["settlement"]
    assert settlement["release"]["status"] == "completed"
    assert settlement["release"]["statuses"] == {"released": run.SMOKE.settle}
    assert settlement["refund"]["status"] == "completed"
    assert settlement["refund"]["statuses"] == {"refunded": run.SMOKE.settle}
    assert settlement["refund"]["refund_operations"] == settlement["refund"]["unique_refund_keys"] == run.SMOKE.settle
    assert all(settlement[o]["peak_rss_mb"] for o in ("release", "refund"))
    assert results["ledger"]["ok"], results["ledger"]["output"]

    table = run.table(results)
    assert "Project page" in table and "Pledging" in table and "Settlement" in table
    assert "Pledging with a 0.3 s processor, 8 API clients over 3 campaigns (JSON API)" in table
    assert "no latency: " in table and "web RSS" in table
    # Where the pledges' CPU went: the web processes and PostgreSQL both did work for each one.
    cpu = pledging["spread_post"]["cpu_ms_per_pledge"]
    assert cpu["web (gunicorn)"] > 0 and cpu["PostgreSQL"] > 0, cpu
    assert pledging["floor_spread"]["cpu_ms_per_pledge"]["plain-SQL floor"] > 0
    assert "## Where a pledge's CPU goes" in run.render_results(results)
