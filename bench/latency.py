"""Pledging against a processor that takes its time, and what the web processes hold meanwhile.

A real processor answers a charge in 0.2-0.5 s; the sandbox answers at once unless
SANDBOX_LATENCY says otherwise. The "latency" step of `make bench` runs the JSON API pledging
runs (over the campaigns, and on one limited tier) against web processes whose sandbox takes
LATENCY seconds (± 30%) a call, each beside the same run with no latency (the pledging step's,
or its own when that step did not run).

Only one set of web processes runs at a time (the runs without latency first), so the
database's connections are not shared between two sets of threaded workers.

`WebMeter` samples, during any pledging run on a server the bench started, the web processes'
total resident memory (the gunicorn master and its workers) and the connections open to the
bench's database, and keeps the peaks.
"""

import threading
from pathlib import Path

import psycopg

from . import seed

LATENCY = 0.3  # seconds per processor call, as a real processor's
# (key of the run with latency, key of the same run without)
RUNS = (("spread_api_latency", "spread_api"), ("hot_api_latency", "hot_api"))
TARGET_RATE, TARGET_P99_MS, TARGET_SHARE, TARGET_RSS_MB = 100, 2000, 0.8, 1024

PROC = Path("/proc")


def process_tree(pid):
    """`pid` and every process under it (Linux; just `pid` where children cannot be listed)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = (PROC / str(current) / "task" / str(current) / "children").read_text().split()
        except OSError:
            children = []
        todo += [int(child) for child in children]
    return found


def rss_kb(pid):
    try:
        with open(PROC / str(pid) / "status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class WebMeter:
    """`with WebMeter(gunicorn_pid, database_url) as meter: ...`, then `meter.result()`: the
    peak total RSS of the web processes (MB), how many there were, and the peak number of
    connections to the database (every process's, this meter's own left out)."""

    def __init__(self, pid, database_url, interval=0.25):
        self.pid, self.database_url, self.interval = pid, database_url, interval
        self.peak_rss_kb = self.processes = 0
        self.peak_connections = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._conn = None

    def _sample(self):
        tree = process_tree(self.pid)
        total = sum(rss_kb(pid) for pid in tree)
        if total > self.peak_rss_kb:
            self.peak_rss_kb, self.processes = total, len(tree)
        if self._conn is not None:
            count = self._conn.execute(
                "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"
            ).fetchone()[0]
            self.peak_connections = max(self.peak_connections or 0, count)

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self._sample()
            except (OSError, psycopg.Error):  # a sample missed; the next one may do
                pass

    def __enter__(self):
        try:
            self._conn = seed.connect(self.database_url, autocommit=True)
        except psycopg.Error:
            self._conn = None
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        if self._conn is not None:
            self._conn.close()
        return False

    def result(self):
        return {
            "rss_mb": round(self.peak_rss_kb / 1024, 1),
            "processes": self.processes,
            "db_connections": self.peak_connections,
        }


def prepare(bench):
    """Where the runs pledge: the pledging step's campaigns, and fresh limited tiers (one for the
    run with latency, and one for the run without unless the pledging step made it)."""
    with bench.connect() as conn:
        spread, hot = bench.pledging_targets(
            conn, hot_names=("api_latency",) if "pledging" in bench.only else ("api", "api_latency")
        )
    return {"spread": [[slug, tier, pid] for slug, pid, tier in spread], "hot": hot}


def run_plain(bench, targets, url, log):
    """The JSON API runs with no processor latency on `url`, unless the pledging step made them."""
    for key in ("spread_api", "hot_api"):
        if key not in bench.results.setdefault("pledging", {}):
            _run(bench, targets, url, key, log)


def run_slow(bench, targets, url, log):
    """The same runs on `url`, whose sandbox takes LATENCY seconds a call."""
    for key in ("spread_api_latency", "hot_api_latency"):
        _run(bench, targets, url, key, log)
    bench.results["latency_s"] = LATENCY


def _run(bench, targets, url, key, log):
    s, slow = bench.sizes, key.endswith("_latency")
    clients = {
        "mode": "pledge",
        "flow": "api",
        "password": seed.PASSWORD,
        "base_url": url,
        "backers": [f"backer{i}@bench.example" for i in bench.catalog.backer_ids[: s.backers]],
    }
    what = f"{LATENCY} s processor" if slow else "no processor latency"
    with bench.connect() as conn:
        if key.startswith("spread"):
            log(f"pledging, {what}: {s.backers} API clients over {len(targets['spread'])} campaigns")
            result = bench.pledge_run(
                conn,
                "bench.loadgen",
                dict(clients, targets=targets["spread"], duration=s.pledge_seconds, stop_when_sold_out=False),
            )
        else:
            log(f"pledging, {what}: {s.backers} API clients on one tier of {s.hot_units}")
            slug, pid, tier = targets["hot"]["api_latency" if slow else "api"]
            hot_seconds = max(s.pledge_seconds, 40) if not bench.smoke else s.pledge_seconds * 2
            result = bench.pledge_run(
                conn,
                "bench.loadgen",
                dict(clients, targets=[[slug, tier, pid]], duration=hot_seconds, stop_when_sold_out=True),
                tier,
            )
    bench.results["pledging"][key] = result


def _facts(run):
    check, web = run["check"], run.get("web") or {}
    oversold = check.get("oversold")
    p99 = f", p99 {run['p99_ms'] / 1000:.2f} s" if run.get("p99_ms") is not None else ""
    return (
        f"{run['pledges_per_s']:.0f} pledges/s (p50 {(run.get('p50_ms') or 0) / 1000:.2f} s{p99}); "
        f"lost {check['lost']}"
        + (f", oversold {oversold}" if oversold is not None else "")
        + (f"; web RSS {web['rss_mb']:.0f} MB in {web['processes']} processes" if web.get("rss_mb") else "")
    )


def met(slow, plain):
    """The issue's bar: ≥ 100 pledges/s with p99 < 2 s, or (CPU bound first) ≥ 80% of the same
    run without latency; the web processes under 1 GB; nothing lost or oversold."""
    check = slow["check"]
    fast_enough = (slow["pledges_per_s"] >= TARGET_RATE and (slow.get("p99_ms") or 0) < TARGET_P99_MS) or (
        plain is not None and slow["pledges_per_s"] >= TARGET_SHARE * plain["pledges_per_s"]
    )
    rss = (slow.get("web") or {}).get("rss_mb")
    return (
        fast_enough
        and slow["pledges_per_s"] > 0
        and rss is not None
        and rss < TARGET_RSS_MB
        and check["lost"] == 0
        and not check.get("oversold")
    )


def rows(results):
    """Rows for the results table: each run with latency beside the same run without."""
    pledging, sizes = results.get("pledging") or {}, results["sizes"]
    latency = results.get("latency_s", LATENCY)
    found = []
    for key, base_key in RUNS:
        slow, plain = pledging.get(key), pledging.get(base_key)
        if not slow:
            continue
        where = (
            f"over {sizes['pledge_projects']} campaigns"
            if base_key == "spread_api"
            else f"on one tier of {sizes['hot_units']:,}"
        )
        found.append(
            (
                f"Pledging with a {latency} s processor, {sizes['backers']} API clients {where} (JSON API)",
                _facts(slow),
                "no latency: " + _facts(plain) if plain else "–",
                f"{100 * slow['pledges_per_s'] / plain['pledges_per_s']:.0f}%"
                if plain and plain["pledges_per_s"]
                else "–",
                "≥ 100/s with p99 < 2 s, or ≥ 80% of no latency; web RSS < 1 GB; 0 lost; 0 oversold",
                "yes" if met(slow, plain) else "**NO**",
            )
        )
    return found
