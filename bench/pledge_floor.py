"""The floor for pledging: the pledge's own transactions as plain SQL through psycopg.

    python -m bench.pledge_floor CONFIG.json   (prints one JSON result on stdout)

The same statements, in the same three transactions, that the platform runs for a
reward pledge through the web (captured from SQLAlchemy's log of one real pledge), minus
everything that is not the database: no HTTP, no Flask, no ORM, no templates.

1. lock the backer (FOR NO KEY UPDATE), look for the attempt's idempotency key, read the
   project and the tier, reserve the unit (guarded UPDATE), insert the pending pledge;
2. the sandbox processor's own transaction on its own connection: look up the charge's
   key, insert the charge;
3. lock the pledge, move the project's totals (guarded by live + deadline), count the
   backer once, write the ledger hold, audit the move, mark the pledge held.

`threads` connections (plus one processor connection each) work for the `backers`, each
backer pledging on a random target until `duration` passes or the tier sells out.
"""

import json
import random
import secrets
import sys
import threading
import time
from datetime import datetime, timezone

import psycopg

from .loadgen import latency_summary
from .seed import conninfo

PLEDGE_COLUMNS = (
    "project_id, backer_id, status, idempotency_key, tier_id, quantity, shares, reward_amount, "
    "extra_amount, shipping_fee, amount, currency, shipping_address, payment_method, charge_ref, "
    "refund_ref, failure_code, failure_message, settlement_attempts, settlement_error, parked, "
    "settle_after, created_at, held_at, ended_at"
)


class SoldOut(Exception):
    pass


def _account(cur, key, project_id):
    """The escrow account, made on first use in a savepoint (as `ledger.get_account` does)."""
    cur.execute("SELECT id FROM ledger_accounts WHERE key = %s", (key,))
    row = cur.fetchone()
    if row is None:
        cur.execute("SAVEPOINT account")
        cur.execute(
            "INSERT INTO ledger_accounts (key, kind, currency, project_id, created_at) "
            "VALUES (%s, 'escrow', 'USD', %s, now()) ON CONFLICT (key) DO NOTHING",
            (key, project_id),
        )
        cur.execute("RELEASE SAVEPOINT account")
        cur.execute("SELECT id FROM ledger_accounts WHERE key = %s", (key,))
        row = cur.fetchone()
    return row[0]


def pledge_once(conn, gateway, backer_id, project_id, tier_id):
    """One pledge, three transactions. Returns the pledge id; raises SoldOut."""
    now = datetime.now(timezone.utc)
    key = secrets.token_urlsafe(18)
    with conn.cursor() as cur:  # 1: reserve and insert the pending pledge
        cur.execute("SELECT id FROM users WHERE id = %s FOR NO KEY UPDATE", (backer_id,))
        cur.execute("SELECT * FROM pledges WHERE backer_id = %s AND idempotency_key = %s", (backer_id, key))
        cur.fetchall()
        cur.execute("SELECT * FROM projects WHERE id = %s", (project_id,))
        project = cur.fetchone()
        cur.execute(
            "SELECT id, price, quantity, sold FROM reward_tiers WHERE id = %s AND project_id = %s",
            (tier_id, project_id),
        )
        _, price, _, _ = cur.fetchone()
        cur.execute(
            "UPDATE reward_tiers SET sold = sold + 1 WHERE id = %s AND (quantity IS NULL OR sold + 1 <= quantity)",
            (tier_id,),
        )
        if cur.rowcount != 1:
            conn.rollback()
            raise SoldOut()
        cur.execute(
            f"INSERT INTO pledges ({PLEDGE_COLUMNS}) VALUES (%s, %s, 'pending', %s, %s, 1, NULL, %s, 0, 0, "
            "%s, 'USD', NULL, 'pm_card_visa', NULL, NULL, NULL, NULL, 0, NULL, false, NULL, %s, NULL, NULL) "
            "RETURNING id",
            (project_id, backer_id, key, tier_id, price, price, now),
        )
        pledge_id = cur.fetchone()[0]
    conn.commit()
    assert project is not None

    charge = f"ch_sbx_{secrets.token_hex(10)}"
    with gateway.cursor() as cur:  # 2: the processor records the charge
        cur.execute("SELECT * FROM sandbox_operations WHERE idempotency_key = %s", (f"pledge-{pledge_id}",))
        cur.fetchall()
        cur.execute("SAVEPOINT sp")
        cur.execute(
            "INSERT INTO sandbox_operations (id, idempotency_key, kind, status, amount, currency, "
            "payment_method, reference, decline_code, extra, created_at) VALUES "
            "(%s, %s, 'charge', 'succeeded', %s, 'USD', 'pm_card_visa', %s, NULL, %s, %s)",
            (
                charge,
                f"pledge-{pledge_id}",
                price,
                f"project-{project_id}",
                json.dumps({"pledge_id": pledge_id, "project_id": project_id}),
                now,
            ),
        )
        cur.execute("RELEASE SAVEPOINT sp")
    gateway.commit()

    held_at = datetime.now(timezone.utc)
    transfer_id = f"pledge:{pledge_id}:hold"
    with conn.cursor() as cur:  # 3: escrow it
        cur.execute("SELECT * FROM pledges WHERE id = %s FOR UPDATE", (pledge_id,))
        cur.fetchone()
        cur.execute(
            "UPDATE projects SET pledged_amount = pledged_amount + %s, updated_at = %s "
            "WHERE id = %s AND status = 'live' AND deadline > %s",
            (price, held_at, project_id, held_at),
        )
        cur.execute(
            "SELECT id FROM pledges WHERE project_id = %s AND backer_id = %s AND status = 'held' AND id != %s LIMIT 1",
            (project_id, backer_id, pledge_id),
        )
        if cur.fetchone() is None:
            cur.execute(
                "UPDATE projects SET backer_count = backer_count + 1, updated_at = %s WHERE id = %s",
                (held_at, project_id),
            )
        cur.execute("SELECT * FROM ledger_transfers WHERE id = %s", (transfer_id,))
        cur.fetchall()
        cur.execute("SELECT id FROM ledger_accounts WHERE key = 'gateway_clearing:USD'")
        clearing = cur.fetchone()[0]
        escrow = _account(cur, f"escrow:project:{project_id}", project_id)
        cur.execute("SAVEPOINT sp")
        cur.execute(
            "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, code, "
            "pledge_id, settlement_id, created_at) VALUES (%s, %s, %s, %s, 'USD', 'pledge_hold', %s, NULL, %s)",
            (transfer_id, clearing, escrow, price, pledge_id, held_at),
        )
        cur.execute("RELEASE SAVEPOINT sp")
        cur.execute("SELECT * FROM ledger_transfers WHERE id = %s", (transfer_id,))
        cur.fetchone()
        cur.execute(
            "INSERT INTO state_changes (entity, entity_id, from_state, to_state, actor_id, note, created_at) "
            "VALUES ('pledge', %s, 'pending', 'held', %s, 'payment succeeded; money held in escrow', %s)",
            (pledge_id, backer_id, held_at),
        )
        cur.execute(
            "UPDATE pledges SET status = 'held', charge_ref = %s, held_at = %s WHERE id = %s",
            (charge, held_at, pledge_id),
        )
    conn.commit()
    return pledge_id


def run(config):
    dsn = conninfo(config["database_url"])
    backers, targets = config["backers"], config["targets"]
    threads, duration = config.get("threads", 8), config["duration"]
    stop_when_sold_out = config.get("stop_when_sold_out", True)
    acknowledged, latencies, errors = [], [], []
    sold_out = threading.Event()
    lock = threading.Lock()
    start, started_at = time.perf_counter(), time.time()
    stop_at = start + duration

    def worker(index):
        rng = random.Random(index)
        mine = backers[index::threads] or backers
        with psycopg.connect(dsn) as conn, psycopg.connect(dsn) as gateway:
            while time.perf_counter() < stop_at and not (stop_when_sold_out and sold_out.is_set()):
                project_id, tier_id = targets[rng.randrange(len(targets))]
                began = time.perf_counter()
                try:
                    pledge_id = pledge_once(conn, gateway, mine[rng.randrange(len(mine))], project_id, tier_id)
                except SoldOut:
                    sold_out.set()
                    continue
                except Exception as error:  # noqa: BLE001 - counted and shown in the result
                    conn.rollback()
                    gateway.rollback()
                    errors.append(repr(error))
                    continue
                ended = time.perf_counter()
                with lock:
                    acknowledged.append((pledge_id, ended - start))
                    latencies.append(ended - began)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    [t.start() for t in pool]
    [t.join() for t in pool]
    elapsed = duration
    if sold_out.is_set() and acknowledged:
        elapsed = max(t for _, t in acknowledged)
    return {
        "mode": "pledge_floor",
        "threads": threads,
        "started_at": started_at,
        "elapsed_s": round(elapsed, 3),
        "acknowledged": len(acknowledged),
        "pledges_per_s": round(len(acknowledged) / elapsed, 1),
        "sold_out": sold_out.is_set(),
        "errors": len(errors),
        "error_sample": errors[:3],
        "pledge_ids": [p for p, _ in acknowledged],
        **latency_summary(latencies),
    }


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    with open(argv[0]) as f:
        config = json.load(f)
    json.dump(run(config), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
