"""`make bench`: build everything, measure, print one table, write bench/RESULTS.md.

    python -m bench.run            # the full benchmark (about 10 minutes on 2 cores)
    python -m bench.run --smoke    # the same code paths at tiny sizes, in seconds

What it does, in order:

1. drops and recreates its own PostgreSQL database (`crowdfund_bench`), runs the
   migrations, and seeds it with COPY (`bench/seed.py`): 10,000 live campaigns with
   1,000,000 held pledges (charges, ledger holds, audit rows and totals included);
2. starts the app under gunicorn as production runs it (production config, gthread workers
   of 16 threads each, 127.0.0.1) and, on another port, the floor app (`bench/floor_app.py`)
   with the same settings;
3. measures, each with its load generator in a process of its own (`bench/loadgen.py`):
   - the project page `/p/<slug>` at 50 concurrent clients, beside the bare Flask floor;
   - discover `/?q=<term>&category=<category>` (the home page with a search and a filter),
     then browsing: `/` and `/?category=<category>&sort=<each order>`;
   - pledging through the web form with 200 logged-in backers, first spread over 20
     campaigns, then all on one limited tier; then the same pledges as plain SQL
     (`bench/pledge_floor.py`); lost and oversold counts checked in the database;
   - the JSON API runs again with the sandbox taking 0.3 s a call, as a real processor does
     (`bench/latency.py`), each beside the same run without; the web processes' memory;
4. stops the web servers and settles two campaigns of 100,000 held pledges each (one
   released, one refunded) with the sandbox gateway, in a Celery worker (`-P solo`) when
   Redis answers (otherwise in the `flask campaigns close-due` process): seconds and the
   worker's peak RSS;
5. runs `flask ledger verify` over the whole database, prints the table and writes
   `bench/RESULTS.md` (full runs only).

Environment: BENCH_PG_URL (server to create the database on; default
postgresql://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/13; "none" to settle without Celery).
"""

import argparse
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from . import latency, seed
from .cpu import CpuMeter, per_item

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"


@dataclass
class Sizes:
    projects: int
    pledges: int
    page_seconds: float
    warmup: float
    page_clients: int
    backers: int
    pledge_projects: int
    pledge_seconds: float
    hot_units: int
    settle: int
    floor_threads: int


FULL = Sizes(
    projects=10_000,
    pledges=1_000_000,
    page_seconds=15,
    warmup=3,
    page_clients=50,
    backers=200,
    pledge_projects=20,
    pledge_seconds=20,
    hot_units=1_000,
    settle=100_000,
    floor_threads=8,
)
SMOKE = Sizes(
    projects=40,
    pledges=800,
    page_seconds=1,
    warmup=0.3,
    page_clients=5,
    backers=8,
    pledge_projects=3,
    pledge_seconds=1.5,
    hot_units=15,
    settle=300,
    floor_threads=2,
)

STEPS = ("page", "discover", "pledging", "latency", "settlement")
SEARCH_TERMS = ["solar", "bamboo", "teapot", "keyboard", "garden", "radio", "kiln", "orchard"]
SEARCH_CATEGORY = "design"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- processes ---------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=60, process=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def stop(process, timeout=20):
    """SIGTERM our own child (and wait); SIGKILL if it will not go."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_json(module, config, env, tmp):
    """Run `python -m <module> config.json` in its own process; its JSON result."""
    path = Path(tmp) / f"{module.rsplit('.', 1)[-1]}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(config))
    done = subprocess.run([sys.executable, "-m", module, str(path)], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def flask(args, env, check=True):
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done


def vm_hwm_kb(pid):
    """Peak resident set size of a running process (VmHWM), in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


# -- the benchmark -----------------------------------------------------------------------------------


class Bench:
    def __init__(
        self,
        sizes,
        *,
        smoke,
        workers,
        server_url,
        redis_url,
        database,
        keep,
        write_results,
        only=STEPS,
        worker_class="gthread",
        threads=16,
    ):
        self.sizes, self.smoke, self.workers, self.only = sizes, smoke, workers, set(only)
        self.worker_class, self.threads = worker_class, threads
        self.servers = {}  # base URL -> its gunicorn master process
        self.server_url, self.redis_url = server_url, redis_url
        self.database, self.keep, self.write_results = database, keep, write_results
        self.db_url = server_url.rsplit("/", 1)[0] + "/" + database
        self.tmp = tempfile.mkdtemp(prefix="crowdfund-bench-")
        self.results = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.env = dict(os.environ)
        self.env.update(
            {
                "CROWDFUND_CONFIG": "production",
                "SECRET_KEY": secrets.token_hex(32),
                "DATABASE_URL": self.db_url,
                "CROWDFUND_INSTANCE_PATH": str(Path(self.tmp) / "instance"),
                "PYTHONPATH": str(ROOT),
                # 200 backers log in from one address: the per-address login limit would refuse them.
                "FLASK_RATELIMIT_ENABLED": "false",
                # Production holds a payout back for 14 days; the settlement run measures the payout too.
                "FLASK_PAYOUT_DELAY": "0",
            }
        )
        for key in ("FLASK_CELERY_BROKER_URL", "CELERY_BROKER_URL", "FLASK_PAGE_CACHE_SECONDS"):
            self.env.pop(key, None)

    # -- set-up --
    def create_database(self):
        admin = psycopg.connect(seed.conninfo(self.server_url), autocommit=True)
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.database}"')
            self.results["postgres"] = admin.execute("SHOW server_version").fetchone()[0]

    def drop_database(self):
        admin = psycopg.connect(seed.conninfo(self.server_url), autocommit=True)
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def connect(self):
        return seed.connect(self.db_url)

    def prepare(self):
        log(f"database {self.database}: create, migrate")
        self.create_database()
        flask(["db", "upgrade"], self.env)
        log(f"seeding {self.sizes.projects} projects and {self.sizes.pledges} pledges (COPY)")
        started = time.perf_counter()
        with self.connect() as conn:
            self.catalog = seed.seed_catalog(
                conn, projects=self.sizes.projects, pledges=self.sizes.pledges, log=lambda m: log(m)
            )
            seed.analyze(conn)
        self.results["seed_seconds"] = round(time.perf_counter() - started, 1)

    @contextmanager
    def gunicorn(self, target, extra_env=None, name="app"):
        port = free_port()
        env = dict(self.env, **(extra_env or {}))
        logfile = open(Path(self.tmp) / f"gunicorn-{name}-{port}.log", "w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                *self.worker_model(),
                "--bind",
                f"127.0.0.1:{port}",
                "--backlog",
                "2048",
                "--timeout",
                "120",
                target,
            ],
            cwd=ROOT,
            env=dict(env, WEB_THREADS=str(self.threads)),
            stdout=logfile,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http(f"{url}/healthz", process=process)
            self.servers[url] = process
            yield url
        finally:
            self.servers.pop(url, None)
            stop(process)
            logfile.close()

    def worker_model(self):
        """gunicorn's arguments for the worker model: production's gthread (`--threads`), or
        sync or gevent for a comparison by hand."""
        if self.worker_class == "gthread":
            return ["--worker-class", "gthread", "--threads", str(self.threads)]
        if self.worker_class == "gevent":
            return ["--worker-class", "gevent", "--worker-connections", str(self.threads)]
        return ["--worker-class", self.worker_class]

    def load(self, config):
        return run_json("bench.loadgen", config, self.env, self.tmp)

    # -- 1. the project page --
    def page_paths(self, count):
        """`count` page views over every campaign, popular ones more often (the same long tail
        as the pledges were seeded with: weight 1 / (rank + 10))."""
        rng = random.Random(7)
        slugs = list(self.catalog.slugs)
        rng.shuffle(slugs)
        weights = [1.0 / (rank + 10) for rank in range(len(slugs))]
        return [f"/p/{slug}" for slug in rng.choices(slugs, weights=weights, k=count)]

    def bench_page(self, app_url, cached_url):
        s = self.sizes
        paths = self.page_paths(20_000)
        sizes = []
        for path in paths[:20]:
            with urllib.request.urlopen(app_url + path) as response:
                sizes.append(len(response.read()))
            with urllib.request.urlopen(cached_url + path) as response:  # both apps warmed alike
                response.read()
        page_bytes = round(sum(sizes) / len(sizes))
        common = {
            "mode": "get",
            "paths": paths,
            "concurrency": s.page_clients,
            "duration": s.page_seconds,
            "warmup": s.warmup,
        }
        with self.gunicorn("bench.floor_app:app", {"BENCH_FLOOR_BYTES": str(page_bytes)}, name="floor") as floor:
            log(f"project page floor (bare Flask, {page_bytes} bytes)")
            floor_result = self.load(dict(common, base_url=floor))
        log("project page (rendered every time)")
        page = self.load(dict(common, base_url=app_url))
        result = {
            "page_bytes": page_bytes,
            "views": len(paths),
            "campaigns": len(set(paths)),
            "floor": floor_result,
            "page": page,
        }
        log("project page (production config: anonymous page cache, long-tail traffic)")
        result["cached"] = self.load(dict(common, base_url=cached_url))
        # A site that has been up a while: every campaign was viewed within the last
        # PAGE_CACHE_MAX_SECONDS (at this traffic even the least viewed is, about once a minute).
        log("project page (production config: long-tail traffic, every campaign viewed lately)")
        self.view_each_once(cached_url, sorted(set(paths)))
        result["cached_steady"] = self.load(dict(common, base_url=cached_url))
        log("project page (production config: every view on one campaign)")
        result["hot"] = self.load(dict(common, base_url=cached_url, paths=paths[:1]))
        self.results["project_page"] = result

    def view_each_once(self, base_url, paths):
        def view(path):
            with urllib.request.urlopen(base_url + path) as response:
                response.read()

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(view, paths))

    # -- 2. discover --
    def bench_discover(self, app_url):
        s = self.sizes
        common = {
            "mode": "get",
            "base_url": app_url,
            "concurrency": s.page_clients,
            "duration": s.page_seconds,
            "warmup": s.warmup,
        }
        paths = [f"/?q={term}&category={SEARCH_CATEGORY}" for term in SEARCH_TERMS]
        log("discover: " + paths[0])
        self.results["discover"] = dict(self.load(dict(common, paths=paths)), paths=paths)
        # Browsing without a search: the home page as it opens, and a category in each order.
        paths = ["/"] + [
            f"/?category={SEARCH_CATEGORY}&sort={sort}" for sort in ("ending_soon", "newest", "most_funded")
        ]
        log("discover: browsing, " + ", ".join(paths))
        self.results["discover_browse"] = dict(self.load(dict(common, paths=paths)), paths=paths)

    # -- 3. pledging --
    def pledging_targets(self, conn, hot_names=("web", "api", "floor")):
        """Campaigns for the spread runs (an unlimited tier each), and a fresh limited tier for
        each of `hot_names`."""
        s = self.sizes
        rng = random.Random(3)
        chosen = rng.sample(self.catalog.project_ids, s.pledge_projects)
        with conn.cursor() as cur:
            cur.execute("SELECT id, slug FROM projects WHERE id = ANY(%s)", (chosen,))
            slugs = dict(cur.fetchall())
        spread = [(slugs[pid], pid, self.catalog.unlimited_tier[pid]) for pid in chosen]
        hot = {}
        for name in hot_names:
            pid, tiers, slug = seed.create_project(conn, title=f"Hot tier {name}", tiers=((2500, s.hot_units),))
            hot[name] = (slug, pid, tiers[0])
        conn.commit()
        return spread, hot

    def check_pledges(self, conn, pledge_ids, tier_id=None):
        """Lost (acknowledged but not held in the database) and oversold counts."""
        with conn.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM pledges p JOIN ledger_transfers t ON t.id = 'pledge:' || p.id || ':hold' "
                "WHERE p.id = ANY(%s) AND p.status = 'held'",
                (pledge_ids,),
            )
            found = cur.fetchone()[0]
            check = {
                "acknowledged": len(pledge_ids),
                "lost": len(set(pledge_ids)) - found,
                "duplicates": len(pledge_ids) - len(set(pledge_ids)),
            }
            if tier_id is not None:
                cur.execute("SELECT quantity, sold FROM reward_tiers WHERE id = %s", (tier_id,))
                quantity, sold = cur.fetchone()
                cur.execute(
                    "SELECT COALESCE(SUM(quantity), 0), COUNT(*) FILTER (WHERE status = 'pending') "
                    "FROM pledges WHERE tier_id = %s AND status IN ('pending', 'held')",
                    (tier_id,),
                )
                units, pending = cur.fetchone()
                check.update(
                    {
                        "quantity": quantity,
                        "sold_counter": sold,
                        "units_in_pledges": int(units),
                        "oversold": max(0, int(units) - quantity),
                        "pending": pending,
                        "counter_drift": sold - int(units),
                    }
                )
        conn.commit()
        return check

    def pledge_run(self, conn, module, config, tier=None):
        """One pledging run, its lost/oversold check, and the CPU each kind of process spent per pledge."""
        server = self.servers.get(config.get("base_url"))
        with CpuMeter() as meter, ExitStack() as web:
            web_meter = web.enter_context(latency.WebMeter(server.pid, self.db_url)) if server else None
            result = run_json(module, config, self.env, self.tmp)
        if web_meter is not None:
            result["web"] = web_meter.result()
        result["check"] = self.check_pledges(conn, result.pop("pledge_ids"), tier)
        started = result.pop("started_at")
        result["cpu_ms_per_pledge"] = per_item(
            meter.between(started, started + result["elapsed_s"]), result["acknowledged"]
        )
        return result

    def bench_pledging(self, app_url):
        s = self.sizes
        hot_seconds = max(s.pledge_seconds, 40) if not self.smoke else s.pledge_seconds * 2
        with self.connect() as conn:
            spread, hot = self.pledging_targets(conn)
            backers = self.catalog.backer_ids[: s.backers]
            web = {
                "mode": "pledge",
                "base_url": app_url,
                "backers": [f"backer{i}@bench.example" for i in backers],
                "password": seed.PASSWORD,
            }
            results = {}
            for flow in ("page_post", "post", "api"):
                log(f"pledging: {s.backers} backers over {len(spread)} campaigns ({flow})")
                results[f"spread_{flow}"] = self.pledge_run(
                    conn,
                    "bench.loadgen",
                    dict(
                        web,
                        targets=[[slug, tier, pid] for slug, pid, tier in spread],
                        duration=s.pledge_seconds,
                        flow=flow,
                        stop_when_sold_out=False,
                    ),
                )
            for flow, name, who in (("page_post", "web", "backers"), ("api", "api", "API clients")):
                log(f"pledging: {s.backers} {who} on one tier of {s.hot_units}")
                slug, pid, tier = hot[name]
                results[f"hot_{flow}"] = self.pledge_run(
                    conn,
                    "bench.loadgen",
                    dict(web, targets=[[slug, tier, pid]], duration=hot_seconds, flow=flow, stop_when_sold_out=True),
                    tier,
                )

            floor = {"database_url": self.db_url, "backers": backers, "threads": s.floor_threads}
            log("pledging floor: plain SQL, spread")
            results["floor_spread"] = self.pledge_run(
                conn,
                "bench.pledge_floor",
                dict(
                    floor,
                    targets=[[pid, tier] for _, pid, tier in spread],
                    duration=s.pledge_seconds,
                    stop_when_sold_out=False,
                ),
            )
            log("pledging floor: plain SQL, one tier")
            _, pid, tier = hot["floor"]
            results["floor_hot"] = self.pledge_run(
                conn,
                "bench.pledge_floor",
                dict(floor, targets=[[pid, tier]], duration=hot_seconds, stop_when_sold_out=True),
                tier,
            )
        self.results["pledging"] = results

    # -- 4. settlement --
    def redis_available(self):
        if not self.redis_url or self.redis_url == "none":
            return False
        try:
            import redis

            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)
            client.ping()
            client.close()
            return True
        except Exception:  # noqa: BLE001 - whatever the failure, Redis does not answer
            return False

    def bench_settlement(self):
        s = self.sizes
        with self.connect() as conn:
            projects = {}
            for outcome, goal in (("release", 100), ("refund", 10**12)):
                pid, tiers, _ = seed.create_project(conn, title=f"Settle {outcome}", goal=goal)
                seed.seed_held_pledges(conn, pid, s.settle, backer_ids=self.catalog.backer_ids, tier_id=tiers[0])
                projects[outcome] = pid
            conn.commit()
            seed.analyze(conn)
        celery = self.redis_available()
        results = {"pledges": s.settle, "worker": "celery -P solo" if celery else "flask campaigns close-due"}
        for outcome, pid in projects.items():
            log(f"settlement: {s.settle} pledges, {outcome} ({results['worker']})")
            with self.connect() as conn:
                conn.execute("UPDATE projects SET deadline = now() - interval '1 second' WHERE id = %s", (pid,))
                conn.commit()
            run = self.settle_with_celery(pid) if celery else self.settle_in_process(pid)
            with self.connect() as conn, conn.cursor() as cur:
                cur.execute(
                    "SELECT status, outcome, EXTRACT(EPOCH FROM completed_at - created_at) "
                    "FROM settlements WHERE project_id = %s",
                    (pid,),
                )
                status, kind, seconds = cur.fetchone()
                cur.execute("SELECT status, COUNT(*) FROM pledges WHERE project_id = %s GROUP BY status", (pid,))
                statuses = dict(cur.fetchall())
                cur.execute(
                    "SELECT COUNT(*), COUNT(DISTINCT o.idempotency_key) FROM sandbox_operations o "
                    "JOIN pledges p ON o.idempotency_key = 'pledge-' || p.id || '-refund' "
                    "WHERE p.project_id = %s AND o.kind = 'refund'",
                    (pid,),
                )
                refunds, unique_refunds = cur.fetchone()
            results[outcome] = {
                "project_id": pid,
                "status": status,
                "outcome": kind,
                "seconds": round(float(seconds), 2) if seconds is not None else None,
                "wall_seconds": run["wall_seconds"],
                "peak_rss_mb": run["peak_rss_mb"],
                "statuses": statuses,
                "refund_operations": refunds,
                "unique_refund_keys": unique_refunds,
            }
        self.results["settlement"] = results

    def settle_in_process(self, project_id):
        """No broker: `flask campaigns close-due` closes the campaign and settles it itself."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "campaigns", "close-due"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out, err = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"close-due failed:\n{err.decode()[-3000:]}")
        return {
            "wall_seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        }

    def celery_env(self, queue):
        return dict(
            self.env,
            FLASK_CELERY_BROKER_URL=json.dumps(self.redis_url),
            FLASK_CELERY_TASK_DEFAULT_QUEUE=json.dumps(queue),
        )

    @contextmanager
    def celery_worker(self, queue):
        """A Celery worker (one process, `-P solo`) on a queue of its own; yields its pid."""
        logfile = Path(self.tmp) / f"celery-{queue}.log"
        with open(logfile, "w") as out:
            worker = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "crowdfund.jobs.celery_worker",
                    "worker",
                    "-P",
                    "solo",
                    "-Q",
                    queue,
                    "-n",
                    f"{queue}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=self.celery_env(queue),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.time() + 60
            while "ready." not in logfile.read_text():
                if worker.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"the Celery worker did not start:\n{logfile.read_text()[-3000:]}")
                time.sleep(0.2)
            yield worker
        finally:
            stop(worker, timeout=60)
            self.purge_queue(queue)

    def settle_with_celery(self, project_id):
        """A Celery worker on a queue of its own settles; `flask campaigns close-due` enqueues."""
        queue = f"crowdfund-bench-{uuid.uuid4().hex[:8]}"
        logfile = Path(self.tmp) / f"celery-{queue}.log"
        with self.celery_worker(queue) as worker:
            started = time.perf_counter()
            flask(["campaigns", "close-due"], self.celery_env(queue))
            timeout = time.time() + (600 if not self.smoke else 120)
            with self.connect() as conn:
                while True:
                    row = conn.execute("SELECT status FROM settlements WHERE project_id = %s", (project_id,)).fetchone()
                    conn.commit()
                    if row and row[0] in ("completed", "needs_attention"):
                        break
                    if worker.poll() is not None or time.time() > timeout:
                        raise RuntimeError(f"settlement did not finish:\n{logfile.read_text()[-3000:]}")
                    time.sleep(0.2)
            wall = time.perf_counter() - started
            peak = vm_hwm_kb(worker.pid)
        return {"wall_seconds": round(wall, 2), "peak_rss_mb": round(peak / 1024, 1) if peak else None}

    def purge_queue(self, queue):
        try:
            import redis

            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)
            client.delete(queue, f"_kombu.binding.{queue}")
            client.close()
        except Exception:  # noqa: BLE001 - leftovers in a scratch Redis db are harmless
            pass

    # -- 5. the ledger --
    def verify_ledger(self):
        log("flask ledger verify")
        started = time.perf_counter()
        done = flask(["ledger", "verify"], self.env, check=False)
        self.results["ledger"] = {
            "ok": done.returncode == 0,
            "output": (done.stdout + done.stderr).strip()[-500:],
            "seconds": round(time.perf_counter() - started, 1),
        }

    @contextmanager
    def production_services(self):
        """What the web processes use in production when Redis answers (docs/PRODUCTION.md):
        Celery for background work (the receipt mails, delivered by a worker running
        alongside) and the page cache shared in Redis. Yields the web processes' environment."""
        if not self.redis_available():
            self.results["web_services"] = "no Redis: jobs in-process, page cache per process"
            yield {}
            return
        queue = f"crowdfund-bench-web-{uuid.uuid4().hex[:8]}"
        env = {
            "FLASK_CELERY_BROKER_URL": json.dumps(self.redis_url),
            "FLASK_CELERY_TASK_DEFAULT_QUEUE": json.dumps(queue),
            "FLASK_CACHE_TYPE": json.dumps("RedisCache"),
            "FLASK_CACHE_REDIS_URL": json.dumps(self.redis_url),
            "FLASK_CACHE_KEY_PREFIX": json.dumps(queue + ":"),
        }
        self.results["web_services"] = "Redis: Celery broker (one mail worker alongside), shared page cache"
        with self.celery_worker(queue):
            yield env

    # -- all of it --
    def run(self):
        started = time.perf_counter()
        self.results["machine"] = machine()
        self.results["workers"] = self.workers
        self.results["worker_class"], self.results["threads"] = self.worker_class, self.threads
        self.results["sizes"] = self.sizes.__dict__
        try:
            self.prepare()
            if self.only & {"page", "discover", "pledging", "latency"}:
                with self.production_services() as web_env:
                    slow_targets = latency.prepare(self) if "latency" in self.only else None
                    with self.gunicorn("wsgi:app", web_env, name="cached") as cached_url:
                        if self.only & {"page", "discover"}:  # stopped once done: its connections too
                            with self.gunicorn("wsgi:app", dict(web_env, FLASK_PAGE_CACHE_SECONDS="0")) as app_url:
                                if "page" in self.only:
                                    self.bench_page(app_url, cached_url)
                                if "discover" in self.only:
                                    self.bench_discover(app_url)
                        if "pledging" in self.only:  # as in production: with the change tokens pages depend on
                            self.bench_pledging(cached_url)
                        if slow_targets:
                            latency.run_plain(self, slow_targets, cached_url, log)
                    if slow_targets:  # on web processes of their own, once the others have stopped
                        with self.gunicorn(
                            "wsgi:app", dict(web_env, FLASK_SANDBOX_LATENCY=str(latency.LATENCY)), name="latency"
                        ) as slow_url:
                            latency.run_slow(self, slow_targets, slow_url, log)
            if "settlement" in self.only:
                self.bench_settlement()
            self.verify_ledger()
        finally:
            if not self.keep:
                self.drop_database()
        if not self.keep:  # after a failure the logs stay, for reading
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.results["total_seconds"] = round(time.perf_counter() - started, 1)
        return self.results


# -- reporting -----------------------------------------------------------------------------------------


def machine():
    memory = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            found = re.search(r"model name\s*:\s*(.+)", f.read())
            model = found.group(1).strip() if found else model
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": memory,
        "cpu": model,
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _pct(value, floor):
    return f"{100 * value / floor:.0f}%" if floor else "–"


def _lat(r):
    return f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms" if r.get("p50_ms") is not None else "no answers"


def _ok(flag):
    return "yes" if flag else "**NO**"


def table(results):
    sizes = results["sizes"]
    clients, backers = sizes["page_clients"], sizes["backers"]
    rows = []
    page = results.get("project_page")
    if page:
        floor = page["floor"]
        floor_text = f"{floor['rps']:.0f} req/s; {_lat(floor)}"
        for key, label in (
            ("page", "rendered every time (cache off)"),
            ("cached", "production config, long-tail traffic over all campaigns"),
            ("cached_steady", "production config, long-tail traffic, each campaign viewed in the last minutes"),
            ("hot", "production config, every view on one campaign"),
        ):
            r = page.get(key)
            if r:
                rows.append(
                    (
                        f"Project page, {clients} clients: {label}",
                        f"{r['rps']:.0f} req/s; {_lat(r)}",
                        floor_text if key == "page" else "(same floor)",
                        _pct(r["rps"], floor["rps"]),
                        "≥ 60% of floor; p99 < 50 ms",
                        _ok(r["rps"] >= 0.6 * floor["rps"] and r["p99_ms"] < 50),
                    )
                )
    discover = results.get("discover")
    if discover:
        rows.append(
            (
                f"Discover `{discover['paths'][0]}`, {clients} clients",
                f"{discover['rps']:.0f} req/s; " + _lat(discover),
                "–",
                "–",
                "(reported)",
                "–",
            )
        )
    browse = results.get("discover_browse")
    if browse:
        rows.append(
            (
                f"Discover, browsing: `/` and a category in each order, {clients} clients",
                f"{browse['rps']:.0f} req/s; " + _lat(browse),
                "–",
                "–",
                "(reported)",
                "–",
            )
        )
    pledging = results.get("pledging")
    if pledging:
        spread = sizes["pledge_projects"]
        for key, label, target in (
            ("spread_page_post", f"Pledging, {backers} backers over {spread} campaigns (GET form + POST)", 300),
            ("spread_post", f"Pledging, {backers} backers over {spread} campaigns (POST only)", 300),
            ("spread_api", f"Pledging, {backers} backers over {spread} campaigns (JSON API)", 300),
            (
                "hot_page_post",
                f"Pledging, {backers} backers on one tier of {sizes['hot_units']:,} (GET form + POST)",
                100,
            ),
            ("hot_api", f"Pledging, {backers} API clients on one tier of {sizes['hot_units']:,} (JSON API)", 100),
        ):
            web = pledging.get(key)
            if not web:
                continue
            floor = pledging.get("floor_hot" if key.startswith("hot") else "floor_spread")
            check = web["check"]
            oversold = check.get("oversold")
            facts = (
                f"{web['pledges_per_s']:.0f} pledges/s ({web['acknowledged']:,} in {web['elapsed_s']:.1f} s, "
                f"{_lat(web)}); lost {check['lost']}" + (f", oversold {oversold}" if oversold is not None else "")
            )
            ok = web["pledges_per_s"] >= target and check["lost"] == 0 and not oversold
            floor_text, share = "–", "–"
            if floor:
                floor_check = floor["check"]
                floor_text = (
                    f"{floor['pledges_per_s']:.0f} pledges/s (plain SQL, {floor['threads']} connections; "
                    f"lost {floor_check['lost']}"
                    + (f", oversold {floor_check['oversold']}" if "oversold" in floor_check else "")
                    + ")"
                )
                share = _pct(web["pledges_per_s"], floor["pledges_per_s"])
            rows.append((label, facts, floor_text, share, f"≥ {target}/s; 0 lost; 0 oversold", _ok(ok)))
        rows += latency.rows(results)
    settlement = results.get("settlement")
    if settlement:
        for outcome in ("release", "refund"):
            r = settlement.get(outcome)
            if not r:
                continue
            done = r["status"] == "completed"
            verb = "released" if outcome == "release" else "refunded"
            rows.append(
                (
                    f"Settlement: {settlement['pledges']:,} held pledges {verb} (sandbox gateway)",
                    f"{r['seconds']} s; peak RSS {r['peak_rss_mb']} MB; {r['status']}",
                    f"worker: {settlement['worker']}",
                    "–",
                    "< 60 s; RSS < 300 MB",
                    _ok(done and r["seconds"] is not None and r["seconds"] < 60 and (r["peak_rss_mb"] or 0) < 300),
                )
            )
    ledger = results.get("ledger")
    if ledger:
        rows.append(
            (
                "`flask ledger verify` afterwards",
                ("OK" if ledger["ok"] else "PROBLEMS") + f" ({ledger['seconds']} s)",
                "–",
                "–",
                "no problems",
                _ok(ledger["ok"]),
            )
        )
    head = ("Benchmark", "Result", "Floor (same run)", "Of floor", "Target", "Met")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


PLEDGE_RUNS = (
    ("spread_page_post", "over the campaigns, GET form + POST"),
    ("spread_post", "over the campaigns, POST only"),
    ("spread_api", "over the campaigns, JSON API"),
    ("hot_page_post", "one tier, GET form + POST"),
    ("hot_api", "one tier, JSON API"),
    ("spread_api_latency", f"over the campaigns, JSON API, {latency.LATENCY} s processor"),
    ("hot_api_latency", f"one tier, JSON API, {latency.LATENCY} s processor"),
    ("floor_spread", "plain-SQL floor, over the campaigns"),
    ("floor_hot", "plain-SQL floor, one tier"),
)


def cpu_table(results):
    """CPU milliseconds per acknowledged pledge, by kind of process: what bounds pledges/s here."""
    runs = [
        (label, results["pledging"][key]["cpu_ms_per_pledge"])
        for key, label in PLEDGE_RUNS
        if results.get("pledging", {}).get(key, {}).get("cpu_ms_per_pledge")
    ]
    if not runs:
        return []
    groups = sorted({group for _, cpu in runs for group in cpu}, key=lambda g: -max(c.get(g, 0) for _, c in runs))
    cores = results["machine"]["cores"] or 1
    head = ("Pledging run", *groups, "all", f"pledges/s the {cores} cores allow")
    lines = [
        "## Where a pledge's CPU goes",
        "",
        "CPU milliseconds per acknowledged pledge, by kind of process, over the measured time of each run "
        "(sampled from /proc). Pledges/s cannot pass the machine's cores divided by the total.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for label, cpu in runs:
        total = sum(cpu.values())
        lines.append(
            "| "
            + " | ".join(
                [
                    label,
                    *(f"{cpu[g]:.1f}" if g in cpu else "–" for g in groups),
                    f"{total:.1f}",
                    f"{1000 * cores / total:.0f}" if total else "–",
                ]
            )
            + " |"
        )
    return lines + [""]


def worker_model(results):
    kind, workers = results.get("worker_class", "sync"), results["workers"]
    if kind == "gthread":
        return f"{workers} gthread workers of {results['threads']} threads each"
    if kind == "gevent":
        return f"{workers} gevent workers of {results['threads']} connections each"
    return f"{workers} {kind} workers"


def kept_sections(previous):
    """The sections of the last RESULTS.md written by hand ("## Also measured ..."), kept as they
    were: a run regenerates only its own figures."""
    kept, keeping = [], False
    for line in (previous or "").splitlines():
        if line.startswith("## "):
            keeping = line.startswith("## Also measured")
        if keeping:
            kept.append(line)
    return kept + [""] if kept and kept[-1] else kept


def render_results(results, previous=None):
    m = results["machine"]
    sizes = results["sizes"]
    page = results.get("project_page", {})
    pledging = results.get("pledging", {})
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `make bench` (`python -m bench.run`) on {m['date']}.",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB memory; load average at start "
        f"{', '.join(map(str, m['load_average_at_start']))} (the floors, measured in the same run, are what "
        "each figure should be read against when the machine is busy with other work).",
        f"- PostgreSQL {results.get('postgres')}, Python {m['python']}, gunicorn with {worker_model(results)} "
        "on 127.0.0.1, production config; the load generator runs in a separate process on the same "
        f"machine. Web services: {results.get('web_services', '–')}.",
        f"- Data: {sizes['projects']:,} live campaigns, {sizes['pledges']:,} held pledges (seeded with COPY in "
        f"{results.get('seed_seconds')} s); the whole run took {results.get('total_seconds')} s.",
        "",
        table(results),
        "",
        *cpu_table(results),
        "## What was measured",
        "",
        f"- **Project page**: `GET /p/<slug>`, anonymous, {sizes['page_clients']} "
        f"closed-loop clients for {sizes['page_seconds']} s after {sizes['warmup']} s of warm-up. The floor is a bare "
        "Flask view (`bench/floor_app.py`) under the same gunicorn settings returning a page of the same size "
        f"({page.get('page_bytes')} bytes). The clients walk a list of {page.get('views', 0):,} views of "
        f"{page.get('campaigns', 0):,} different campaigns, drawn with the long tail the pledges were seeded with "
        "(weight 1 / (rank + 10)). With 50 clients always waiting, latency is "
        "50 / throughput on average (Little's law), so the p99 target needs about 1,000+ req/s. The production "
        "config keeps a page 10 s as it is and up to 5 minutes while nothing on it changes: the first long-tail "
        "run starts from an empty cache (every page to render once); the second runs after each campaign was viewed "
        "once, as on a site that has been up a while (at this traffic, even the least viewed campaign is viewed "
        "about once a minute). A cached page goes to a visitor with no session cookie before Flask sees the "
        "request (`page_cache.Front`), so it can cost less than the floor's bare Flask view.",
        "- **Discover**: the home page with a search term and a category filter (8 terms in turn); then "
        "browsing without a search: `/` as it opens (live campaigns, ending soon) and one category sorted "
        "each way (ending soon, newest, most funded), in turn.",
        f"- **Pledging**: {sizes['backers']} backers log in through the login form, then each repeatedly opens "
        "`GET /p/<slug>/back` (CSRF token and the form's idempotency key) and POSTs the form; a pledge counts "
        'when the answer is the redirect to its receipt ("POST only": the form is fetched once, then POSTed '
        'again and again with a new idempotency key; "JSON API": `POST /api/v1/projects/<id>/pledges` with a '
        "bearer token and an `Idempotency-Key`, counted on 201). Pledges/s is acknowledged pledges over the measured "
        "time (for the limited tier: until it sold out). Lost = acknowledged but not held with its ledger hold "
        "in the database; oversold = units in pending+held pledges beyond the tier's quantity. The floor runs "
        "the same three transactions as plain SQL through psycopg (`bench/pledge_floor.py`). The web processes run "
        "the production config, as for the cached pages (each pledge replaces its campaign's change token in Redis).",
        f"- **Pledging with a slow processor**: the JSON API runs again, against web processes whose sandbox "
        f"takes {results.get('latency_s', latency.LATENCY)} s (± 30%) for each call, as a real processor's answer "
        "does (`SANDBOX_LATENCY`); each beside the same run without. Web RSS: the peak of the web processes' "
        "resident memory added up (the gunicorn master and its workers, sampled every 0.25 s; pages the "
        "workers share since the fork are counted in each). The target is the issue's: at least 100 pledges/s "
        "with p99 under 2 s, or, if the CPU bounds it first, at least 80% of the same run without latency.",
        f"- **Settlement**: {sizes['settle']:,} held pledges on one campaign, released (success) and, on another, "
        "refunded (failure), with the sandbox gateway. Seconds from the campaign closing to the settlement "
        "completing (database timestamps); peak RSS is the worker process's VmHWM.",
        "",
        *kept_sections(previous),
        "## Raw figures",
        "",
        "```json",
        json.dumps({k: v for k, v in results.items() if k not in ("machine",)}, indent=1, default=str)[:20000],
        "```",
        "",
    ]
    del pledging
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds per step; no RESULTS.md")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: cores + 1; sync workers: 2 x cores + 1)"
    )
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=("gthread", "sync", "gevent"),
        help="gunicorn worker class (default: gthread, as production runs it; gevent needs "
        "`pip install gevent`, which the project does not)",
    )
    parser.add_argument(
        "--threads", type=int, default=32, help="threads per gthread worker (connections per gevent worker); default 32"
    )
    parser.add_argument("--database", default=None, help="database name (dropped and recreated)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs afterwards")
    parser.add_argument("--json", default=None, help="also write the raw results to this file")
    parser.add_argument(
        "--only",
        default=",".join(STEPS),
        help="comma-separated steps to run (%s); a partial run writes no RESULTS.md" % ", ".join(STEPS),
    )
    args = parser.parse_args(argv)
    only = [step.strip() for step in args.only.split(",") if step.strip()]
    if not only or set(only) - set(STEPS):
        parser.error(f"--only takes some of: {', '.join(STEPS)}")
    sizes = SMOKE if args.smoke else FULL
    cores = os.cpu_count() or 1
    # Threads (or greenlets) give the concurrency, processes the cores (one each, for Python).
    workers = args.workers or (2 if args.smoke else cores + 1 if args.worker_class != "sync" else 2 * cores + 1)
    bench = Bench(
        sizes,
        smoke=args.smoke,
        workers=workers,
        server_url=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        database=args.database
        or ("crowdfund_bench_smoke_" + uuid.uuid4().hex[:8] if args.smoke else "crowdfund_bench"),
        keep=args.keep,
        write_results=not args.smoke and set(only) == set(STEPS),
        only=only,
        worker_class=args.worker_class,
        threads=args.threads,
    )
    results = bench.run()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    if bench.write_results:
        RESULTS.write_text(render_results(results, RESULTS.read_text() if RESULTS.exists() else None))
        log(f"written {RESULTS.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    main()
