"""Fast bulk seeding on PostgreSQL, for the benchmark and the multi-worker settlement test.

Everything here writes with COPY (psycopg's `cursor.copy`) or one set-based
INSERT ... SELECT, never row by row, and always leaves the database consistent the way
the platform itself would have left it:

- a held pledge has its sandbox charge (`sandbox_operations`, key `pledge-<id>`), its
  ledger hold `pledge:<id>:hold` (gateway_clearing -> escrow:project:<id>) and its audit
  row (pending -> held);
- the project's `pledged_amount` / `backer_count` and each tier's `sold` are recomputed
  from the pledges, so `crowdfund.ledger.verify()` finds nothing to complain about.

Functions take an open psycopg connection (see `connect`) and commit nothing themselves
unless they say so; the caller commits.

    seed_catalog(conn, projects=10_000, pledges=1_000_000)  the benchmark's data set
    create_users(conn, n)                                   backers with a known password
    create_project(conn, ...)                               one live reward project (+ firm, tier)
    seed_held_pledges(conn, project_id, n, ...)             n held pledges on one project
"""

import io
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import psycopg
from werkzeug.security import generate_password_hash

PASSWORD = "bench-password-1"
# A cheap scrypt work factor for the benchmark's accounts: the hash carries its own
# parameters, so logging in with it costs little (the platform's own hashes stay strong).
_PASSWORD_HASH = None
SEED_NOTE = "payment succeeded; money held in escrow"

ADJECTIVES = [
    "solar",
    "bamboo",
    "wooden",
    "modular",
    "pocket",
    "analog",
    "urban",
    "quiet",
    "electric",
    "folding",
    "ceramic",
    "smart",
    "tiny",
    "open",
    "wild",
    "copper",
    "paper",
    "glass",
    "woolen",
    "riverside",
    "mountain",
    "night",
    "coastal",
    "vintage",
    "handmade",
    "rapid",
    "gentle",
    "bright",
]
NOUNS = [
    "lantern",
    "bicycle",
    "teapot",
    "keyboard",
    "notebook",
    "garden",
    "radio",
    "backpack",
    "camera",
    "bakery",
    "press",
    "synth",
    "boardgame",
    "workshop",
    "kiln",
    "loom",
    "studio",
    "brewery",
    "map",
    "speaker",
    "desk",
    "kite",
    "bookshop",
    "clinic",
    "ferry",
    "orchard",
    "theatre",
    "canoe",
]
CATEGORIES = ["design", "technology", "food", "publishing", "games", "crafts", "fashion", "film", "music", "community"]
LOREM = (
    "We are a small team that has been making things by hand for years. This campaign pays for the "
    "tooling and the first production run, so that we can sell to more people at a fair price. "
    "Every backer gets updates from the workshop, and the first batch ships in the spring. "
)


def now():
    return datetime.now(timezone.utc)


def password_hash():
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
    return _PASSWORD_HASH


def conninfo(url):
    """A libpq URL from a SQLAlchemy one (postgresql+psycopg://... -> postgresql://...)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", str(url))


def connect(url, **kwargs):
    return psycopg.connect(conninfo(url), **kwargs)


# -- COPY helpers ---------------------------------------------------------------------------------


def _text(value):
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    value = str(value)
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_rows(conn, table, columns, rows, chunk=20_000):
    """COPY `rows` (tuples in `columns` order) into `table`, in text chunks (fast)."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    count = 0
    with conn.cursor() as cur, cur.copy(sql) as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(map(_text, row)))
            buffer.write("\n")
            count += 1
            if count % chunk == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        if buffer.tell():
            copy.write(buffer.getvalue())
    return count


def _next_ids(conn, table, n):
    """Reserve `n` ids of `table` (its serial sequence moves past them). Locks the table
    against other writers until the caller commits, so the range is ours alone."""
    with conn.cursor() as cur:
        cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        cur.execute(f"SELECT pg_get_serial_sequence('{table}', 'id')")
        sequence = cur.fetchone()[0]
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        highest = cur.fetchone()[0]
        cur.execute(f"SELECT last_value, is_called FROM {sequence}")
        last, called = cur.fetchone()
        first = max(highest, last if called else last - 1) + 1
        if n:
            cur.execute("SELECT setval(%s, %s, true)", (sequence, first + n - 1))
    return first


# -- users, firms, projects ---------------------------------------------------------------------------

# Their addresses confirmed: an account that has not confirmed its address may not pledge.
USER_COLUMNS = (
    "id",
    "email",
    "name",
    "password_hash",
    "is_admin",
    "locale",
    "timezone",
    "created_at",
    "email_verified_at",
)


def create_users(conn, n, *, prefix="backer"):
    """`n` accounts `<prefix><id>@bench.example` with password PASSWORD. Returns their ids."""
    first = _next_ids(conn, "users", n)
    hashed, at = password_hash(), now()
    copy_rows(
        conn,
        "users",
        USER_COLUMNS,
        (
            (i, f"{prefix}{i}@bench.example", f"Bench {prefix.title()} {i}", hashed, False, None, None, at, at)
            for i in range(first, first + n)
        ),
    )
    return list(range(first, first + n))


def create_firms(conn, founder_ids):
    """One firm per founder (who becomes its owner). Returns the firm ids."""
    n = len(founder_ids)
    first = _next_ids(conn, "firms", n)
    at = now()
    copy_rows(
        conn,
        "firms",
        ("id", "legal_name", "registration_number", "country", "address", "website", "description", "created_at"),
        (
            (
                first + k,
                f"Bench Firm {first + k} Ltd",
                f"B{first + k:09d}",
                "GB",
                "1 High Street, London",
                None,
                "Makes things in small batches.",
                at,
            )
            for k in range(n)
        ),
    )
    member_first = _next_ids(conn, "firm_members", n)
    copy_rows(
        conn,
        "firm_members",
        ("id", "firm_id", "user_id", "role", "created_at"),
        ((member_first + k, first + k, founder_ids[k], "owner", at) for k in range(n)),
    )
    # Each firm's payout account, as if the sandbox's onboarding had verified it (the
    # sandbox pays out to any acct_ reference, so its own book needs no row for it).
    account_first = _next_ids(conn, "payout_accounts", n)
    copy_rows(
        conn,
        "payout_accounts",
        (
            "id",
            "firm_id",
            "processor",
            "processor_ref",
            "status",
            "role",
            "created_at",
            "status_changed_at",
            "verified_at",
        ),
        (
            (account_first + k, first + k, "sandbox", f"acct_bench_{first + k}", "verified", "current", at, at, at)
            for k in range(n)
        ),
    )
    return list(range(first, first + n))


PROJECT_COLUMNS = (
    "id",
    "firm_id",
    "created_by_id",
    "kind",
    "status",
    "title",
    "slug",
    "summary",
    "description",
    "description_html",
    "category",
    "currency",
    "goal",
    "risks",
    "use_of_funds",
    "duration_days",
    "risk_grade",
    "deadline",
    "launched_at",
    "closed_at",
    "pledged_amount",
    "backer_count",
    "created_at",
    "updated_at",
)
TIER_COLUMNS = (
    "id",
    "project_id",
    "position",
    "title",
    "description",
    "price",
    "quantity",
    "sold",
    "per_backer_limit",
    "estimated_delivery",
    "shipping",
    "shipping_fee",
    "available_from",
    "available_until",
    "created_at",
)


def _story(title, rng):
    paragraphs = [f"{title}: {LOREM}" + LOREM[: rng.randint(40, len(LOREM))] for _ in range(4)]
    markdown = "\n\n".join(paragraphs)
    html = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return markdown, html


@dataclass
class ProjectSpec:
    """What `_project_rows` needs for one project."""

    id: int
    firm_id: int
    founder_id: int
    title: str
    category: str
    goal: int
    deadline: datetime
    launched_at: datetime
    tiers: list = field(default_factory=list)  # [(id, price, quantity or None)]


def _project_rows(specs, rng):
    at = now()
    for spec in specs:
        markdown, html = _story(spec.title, rng)
        slug = re.sub(r"[^a-z0-9]+", "-", spec.title.lower()).strip("-") + f"-{spec.id}"
        yield (
            spec.id,
            spec.firm_id,
            spec.founder_id,
            "reward",
            "live",
            spec.title,
            slug,
            f"{spec.title} — made well, in small batches, by people who care.",
            markdown,
            html,
            spec.category,
            "USD",
            spec.goal,
            "Suppliers may be late; we have a second one lined up.",
            "Tooling (60%), the first batch (30%), shipping (10%).",
            None,
            "B",
            spec.deadline,
            spec.launched_at,
            None,
            0,
            0,
            spec.launched_at - timedelta(days=3),
            at,
        )


def _tier_rows(specs):
    at, delivery = now(), f"{now().year + 1}-06"
    names = ["Early bird", "Standard", "Supporter pack", "Workshop visit"]
    for spec in specs:
        for position, (tier_id, price, quantity) in enumerate(spec.tiers):
            yield (
                tier_id,
                spec.id,
                position,
                names[position % len(names)],
                "One of the first, with thanks.",
                price,
                quantity,
                0,
                None,
                delivery,
                "none",
                0,
                None,
                None,
                at,
            )


def create_project(
    conn,
    *,
    title=None,
    goal=500_000,
    tiers=((2500, None),),
    deadline=None,
    founder_id=None,
    firm_id=None,
    category="design",
    rng=None,
):
    """One live reward project in USD with its firm, founder and tiers [(price, quantity)].
    Returns (project_id, [tier ids], slug)."""
    rng = rng or random.Random(0)
    if founder_id is None:
        founder_id = create_users(conn, 1, prefix="founder")[0]
    if firm_id is None:
        firm_id = create_firms(conn, [founder_id])[0]
    project_id = _next_ids(conn, "projects", 1)
    tier_first = _next_ids(conn, "reward_tiers", len(tiers))
    at = now()
    spec = ProjectSpec(
        project_id,
        firm_id,
        founder_id,
        title or f"Bench project {project_id}",
        category,
        goal,
        deadline or at + timedelta(days=30),
        at - timedelta(days=1),
        [(tier_first + k, price, quantity) for k, (price, quantity) in enumerate(tiers)],
    )
    copy_rows(conn, "projects", PROJECT_COLUMNS, _project_rows([spec], rng))
    copy_rows(conn, "reward_tiers", TIER_COLUMNS, _tier_rows([spec]))
    with conn.cursor() as cur:
        cur.execute("SELECT slug FROM projects WHERE id = %s", (project_id,))
        slug = cur.fetchone()[0]
    return project_id, [t[0] for t in spec.tiers], slug


# -- pledges ----------------------------------------------------------------------------------------

PLEDGE_COLUMNS = (
    "id",
    "project_id",
    "backer_id",
    "status",
    "idempotency_key",
    "tier_id",
    "quantity",
    "shares",
    "reward_amount",
    "extra_amount",
    "shipping_fee",
    "amount",
    "currency",
    "shipping_address",
    "payment_method",
    "charge_ref",
    "refund_ref",
    "failure_code",
    "failure_message",
    "settlement_attempts",
    "settlement_error",
    "parked",
    "settle_after",
    "created_at",
    "held_at",
    "ended_at",
)


def charge_ref(pledge_id):
    """The sandbox charge id a seeded pledge was paid with (deterministic)."""
    return f"ch_sbx_{pledge_id:020x}"


def _pledge_line(pledge_id, project_id, backer_id, tier_id, price, held_at):
    """One held pledge in COPY text format (the hot path of seeding: no per-value calls)."""
    at = held_at.isoformat()
    reward, extra = (price, 0) if tier_id is not None else (0, price)
    tier = "\\N" if tier_id is None else tier_id
    return (
        f"{pledge_id}\t{project_id}\t{backer_id}\theld\tseed-{pledge_id}\t"
        f"{tier}\t1\t\\N\t{reward}\t{extra}\t0\t{price}\tUSD\t\\N\t"
        f"pm_card_visa\t{charge_ref(pledge_id)}\t\\N\t\\N\t\\N\t0\t\\N\tf\t\\N\t{at}\t{at}\t\\N\n"
    )


def _copy_pledge_lines(conn, lines, chunk=50_000):
    sql = f"COPY pledges ({', '.join(PLEDGE_COLUMNS)}) FROM STDIN"
    with conn.cursor() as cur, cur.copy(sql) as copy:
        batch = []
        for line in lines:
            batch.append(line)
            if len(batch) >= chunk:
                copy.write("".join(batch))
                batch = []
        if batch:
            copy.write("".join(batch))


def _ensure_accounts(conn, project_ids):
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger_accounts (key, kind, currency, created_at) "
            "VALUES ('gateway_clearing:USD', 'gateway_clearing', 'USD', now()) ON CONFLICT (key) DO NOTHING"
        )
        cur.execute(
            "INSERT INTO ledger_accounts (key, kind, currency, project_id, created_at) "
            "SELECT 'escrow:project:' || p.id, 'escrow', p.currency, p.id, now() FROM projects p "
            "WHERE p.id = ANY(%s) ON CONFLICT (key) DO NOTHING",
            (list(project_ids),),
        )


def _derive_from_pledges(conn, first_id, last_id, project_ids):
    """Everything a held pledge implies, for the pledges with ids in [first_id, last_id]."""
    _ensure_accounts(conn, project_ids)
    between = "p.id BETWEEN %(first)s AND %(last)s"
    args = {"first": first_id, "last": last_id, "projects": list(project_ids)}
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sandbox_operations (id, idempotency_key, kind, status, amount, currency, payment_method, "
            "reference, decline_code, extra, created_at) "
            "SELECT p.charge_ref, 'pledge-' || p.id, 'charge', 'succeeded', p.amount, p.currency, p.payment_method, "
            "'project-' || p.project_id, NULL, json_build_object('pledge_id', p.id, 'project_id', p.project_id), "
            f"p.created_at FROM pledges p WHERE {between}",
            args,
        )
        cur.execute(
            "INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, currency, code, "
            "pledge_id, settlement_id, created_at) "
            "SELECT 'pledge:' || p.id || ':hold', c.id, e.id, p.amount, p.currency, 'pledge_hold', p.id, NULL, "
            "p.held_at FROM pledges p "
            "JOIN ledger_accounts c ON c.key = 'gateway_clearing:' || p.currency "
            f"JOIN ledger_accounts e ON e.key = 'escrow:project:' || p.project_id WHERE {between}",
            args,
        )
        cur.execute(
            "INSERT INTO state_changes (entity, entity_id, from_state, to_state, actor_id, note, created_at) "
            "SELECT 'pledge', p.id, 'pending', 'held', p.backer_id, %(note)s, p.held_at "
            f"FROM pledges p WHERE {between}",
            dict(args, note=SEED_NOTE),
        )
        cur.execute(
            "UPDATE projects pr SET pledged_amount = s.total, backer_count = s.backers FROM ("
            "  SELECT project_id, SUM(amount) AS total, COUNT(DISTINCT backer_id) AS backers FROM pledges"
            "  WHERE status = 'held' AND project_id = ANY(%(projects)s) GROUP BY project_id) s "
            "WHERE pr.id = s.project_id",
            args,
        )
        cur.execute(
            "UPDATE reward_tiers t SET sold = s.units FROM ("
            "  SELECT tier_id, SUM(quantity) AS units FROM pledges"
            "  WHERE status IN ('pending', 'held') AND project_id = ANY(%(projects)s) AND tier_id IS NOT NULL"
            "  GROUP BY tier_id) s "
            "WHERE t.id = s.tier_id",
            args,
        )


def seed_held_pledges(conn, project_id, n, *, backer_ids=None, tier_id=None, amount=2500):
    """`n` held pledges on `project_id`, with their charges, ledger holds, audit rows and the
    project's totals. Backers: `backer_ids` (cycled; distinct backers when there are n of
    them), or n new accounts. A `tier_id` makes them pledges of one unit of that tier (its
    price is the amount; its `sold` is recomputed: the tier must have room); otherwise
    no-reward pledges of `amount`. Returns (first pledge id, last pledge id)."""
    if backer_ids is None:
        backer_ids = create_users(conn, n)
    with conn.cursor() as cur:
        cur.execute("SELECT currency FROM projects WHERE id = %s", (project_id,))
        if cur.fetchone()[0] != "USD":
            raise ValueError("seed_held_pledges seeds USD projects only")
        if tier_id is not None:
            cur.execute("SELECT price FROM reward_tiers WHERE id = %s AND project_id = %s", (tier_id, project_id))
            amount = cur.fetchone()[0]
    first = _next_ids(conn, "pledges", n)
    start = now() - timedelta(hours=1)
    backers = len(backer_ids)
    _copy_pledge_lines(
        conn,
        (
            _pledge_line(
                first + k, project_id, backer_ids[k % backers], tier_id, amount, start + timedelta(microseconds=k * 10)
            )
            for k in range(n)
        ),
    )
    _derive_from_pledges(conn, first, first + n - 1, [project_id])
    return first, first + n - 1


# -- the benchmark's catalogue ------------------------------------------------------------------------


@dataclass
class Catalog:
    project_ids: list
    backer_ids: list
    unlimited_tier: dict  # project id -> id of a tier with no quantity limit
    slugs: list
    pledges: int


def seed_catalog(conn, *, projects=10_000, pledges=1_000_000, backers=None, seed=1, log=print):
    """`projects` live reward campaigns (USD; 3 tiers each) with `pledges` held pledges spread
    over them unevenly, by `backers` accounts (default: one per ten pledges, at least 50).
    Commits once at the end."""
    rng = random.Random(seed)
    backers = backers or max(50, pledges // 10)
    with conn.cursor() as cur:
        # Bulk load: skip the per-row foreign-key triggers (every reference is made right here,
        # by construction). Needs a superuser, as the benchmark's own database has.
        cur.execute("SET LOCAL session_replication_role = replica")
    n_firms = max(1, projects // 10)
    founders = create_users(conn, n_firms, prefix="founder")
    backer_ids = create_users(conn, backers)
    firm_ids = create_firms(conn, founders)
    log(f"  {n_firms} firms, {backers} backers")

    project_first = _next_ids(conn, "projects", projects)
    tier_first = _next_ids(conn, "reward_tiers", 3 * projects)
    at = now()
    specs, unlimited = [], {}
    for k in range(projects):
        pid = project_first + k
        title = f"{rng.choice(ADJECTIVES).title()} {rng.choice(NOUNS)} {rng.choice(NOUNS)}"
        t = tier_first + 3 * k
        # Early bird (limited, raised below to what was sold plus room), standard (unlimited), supporter.
        tiers = [(t, 1500, 1_000_000), (t + 1, 2500, None), (t + 2, 10_000, None)]
        unlimited[pid] = t + 1
        specs.append(
            ProjectSpec(
                pid,
                firm_ids[k % n_firms],
                founders[k % n_firms],
                title,
                CATEGORIES[k % 10],
                goal=rng.choice([200_000, 500_000, 1_000_000, 2_500_000]),
                deadline=at + timedelta(days=rng.randint(2, 50), seconds=rng.randint(0, 86_400)),
                launched_at=at - timedelta(days=rng.randint(1, 9)),
                tiers=tiers,
            )
        )
    copy_rows(conn, "projects", PROJECT_COLUMNS, _project_rows(specs, rng))
    copy_rows(conn, "reward_tiers", TIER_COLUMNS, _tier_rows(specs))
    log(f"  {projects} projects, {3 * projects} tiers")

    # Uneven popularity: a few campaigns take many pledges, most take a few.
    weights = [1.0 / (rank + 10) for rank in range(projects)]
    rng.shuffle(weights)
    chosen = rng.choices(range(projects), weights=weights, k=pledges)
    first = _next_ids(conn, "pledges", pledges)
    start = at - timedelta(days=9)
    step = timedelta(days=8) / max(pledges, 1)

    def lines():
        for k, index in enumerate(chosen):
            spec = specs[index]
            tier_id, price, _ = spec.tiers[k % 3]
            yield _pledge_line(first + k, spec.id, backer_ids[rng.randrange(backers)], tier_id, price, start + step * k)

    _copy_pledge_lines(conn, lines())
    log(f"  {pledges} pledges copied")
    _derive_from_pledges(conn, first, first + pledges - 1, [s.id for s in specs])
    with conn.cursor() as cur:  # limited tiers: a quantity with room left
        cur.execute(
            "UPDATE reward_tiers SET quantity = sold + 500 WHERE quantity IS NOT NULL AND id = ANY(%s)",
            ([s.tiers[0][0] for s in specs],),
        )
    conn.commit()
    log("  charges, ledger holds, audit rows, totals derived")
    with conn.cursor() as cur:
        cur.execute("SELECT id, slug FROM projects WHERE id = ANY(%s) ORDER BY id", ([s.id for s in specs],))
        slugs = [row[1] for row in cur.fetchall()]
    return Catalog(
        project_ids=[s.id for s in specs], backer_ids=backer_ids, unlimited_tier=unlimited, slugs=slugs, pledges=pledges
    )


def analyze(conn):
    """Fresh planner statistics after a bulk load (autovacuum would get there, later)."""
    previous = conn.autocommit
    conn.commit()
    conn.autocommit = True
    try:
        conn.execute("ANALYZE")
    finally:
        conn.autocommit = previous
