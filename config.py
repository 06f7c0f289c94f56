"""Configuration classes. `create_app` picks one, then applies FLASK_<KEY> overrides.

Nothing here reads the environment at import time: `create_app` resolves
DATABASE_URL, SECRET_KEY and friends when an app is built, so tests and
processes can set them late.
"""


class Config:
    ENV_NAME = "development"
    # Database: DATABASE_URL wins; otherwise a SQLite file in the instance folder.
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS = {}
    # Requests a web process serves at once (gunicorn --threads; None: the WEB_THREADS environment
    # variable the Procfile and the systemd unit give gunicorn too, else 32). The database pool
    # keeps that many connections and opens as many more at a peak; Celery's broker pool holds
    # that many (crowdfund/pools.py). SQLALCHEMY_ENGINE_OPTIONS' pool_size/max_overflow win.
    WEB_THREADS = None
    # Of those, how many run at once (crowdfund/request_gate.py): the rest wait their turn, and a
    # request waiting for the payment processor gives its turn up meanwhile. About what a
    # process's share of the cores can use; 0: no limit.
    WEB_ACTIVE_THREADS = 2
    # A pooled connection unused this many seconds is tested before use (crowdfund/database.py);
    # 0 tests every checkout, like SQLAlchemy's pool_pre_ping.
    DATABASE_PING_AFTER_IDLE = 2.0
    SECRET_KEY = None  # production: from the environment; dev: generated and persisted

    # Sessions and cookies
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # tokens live as long as the session
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024

    # Accounts
    PASSWORD_MIN_LENGTH = 10
    # Two-factor sign-in (crowdfund/services/two_factor.py): an authenticator app's codes.
    ADMIN_2FA_REQUIRED = True  # an admin enrols at the first sign-in, and can do nothing else before
    TWO_FACTOR_ISSUER = "Crowdfund"  # the name authenticator apps show beside the account
    TWO_FACTOR_PENDING_SECONDS = 300  # time between a right password and its code
    TWO_FACTOR_FRESH_SECONDS = 300  # a code entered this recently also lets payout details change
    PASSWORD_RESET_TTL = 3600  # seconds a "reset your password" link works (once)
    RATELIMIT_PASSWORD_RESET = "5 per hour"  # reset mails asked for one address
    # Until the address is confirmed, an account may browse and edit drafts but not pledge,
    # invest or submit a project. The link in the mail works this many seconds.
    EMAIL_VERIFICATION_REQUIRED = True
    EMAIL_VERIFICATION_TTL = 7 * 24 * 3600
    RATELIMIT_VERIFICATION_RESEND = "1 per minute;5 per day"  # per account
    TERMS_VERSION = "2026-12-01"  # the terms and privacy notice a new account accepts (/terms, /privacy)
    # A signed-in browser (crowdfund/services/user_sessions.py): its record's last_seen_at is
    # moved at most this often (seconds), and a session unseen for SESSION_IDLE_TIMEOUT ends.
    SESSION_TOUCH_INTERVAL = 300
    SESSION_IDLE_TIMEOUT = 30 * 24 * 3600

    # Internationalisation
    LANGUAGES = ["en", "zh"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # Campaigns (seconds)
    CAMPAIGN_MIN_DURATION = 24 * 3600
    CAMPAIGN_MAX_DURATION = 60 * 24 * 3600
    EQUITY_CANCEL_CUTOFF = 48 * 3600
    SCHEDULER_ENABLED = False  # in-process deadline scheduler (make run turns it on)
    SCHEDULER_INTERVAL = 5
    UPLOAD_MAX_IMAGE_BYTES = 5 * 1024 * 1024  # cover images
    UPLOAD_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # disclosure PDFs
    STORY_IMAGE_MAX_BYTES = 8 * 1024 * 1024  # one story image as uploaded (before it is re-encoded)
    STORY_IMAGE_MAX_COUNT = 20  # story images per campaign
    STORY_IMAGE_MAX_WIDTH = 1600  # pixels; wider images are scaled down on upload

    # Money
    PLATFORM_FEE_BPS = 500
    SETTLEMENT_BATCH_SIZE = 500
    SETTLEMENT_MAX_ATTEMPTS = 5  # gateway tries per refund / payout before an admin is asked
    SETTLEMENT_RETRY_BASE = 2.0  # seconds; doubles with each failed attempt
    SETTLEMENT_CLAIM_SECONDS = 300  # a worker's claim on a batch of refunds expires after this
    # A successful campaign's payout (crowdfund/workflows/payouts.py): sent PAYOUT_DELAY seconds
    # after success, minus PAYOUT_RESERVE_BPS of the firm's net held back against chargebacks,
    # which a second payout sends PAYOUT_RESERVE_DAYS after success. While the processor's
    # balance is short (balance_insufficient: card funds still pending), it tries again after
    # PAYOUT_BALANCE_RETRY seconds, doubling each time, at most a day apart.
    PAYOUT_DELAY = 0
    PAYOUT_RESERVE_BPS = 0
    PAYOUT_RESERVE_DAYS = 90
    PAYOUT_BALANCE_RETRY = 3600
    # Release on delivery (reward campaigns with release_model "on_delivery",
    # crowdfund/workflows/delivery_release.py): RELEASE_AT_SUCCESS_BPS of each pledge's net goes
    # to the firm at success, the rest waits in held_for_delivery until the backer confirms the
    # reward arrived (or DELIVERY_CONFIRM_DAYS after it shipped pass in silence). Rewards not
    # shipped DELIVERY_GRACE_DAYS after their tier's estimated delivery month are flagged.
    RELEASE_AT_SUCCESS_BPS = 5000
    DELIVERY_CONFIRM_DAYS = 14
    DELIVERY_GRACE_DAYS = 30
    DELIVERY_SWEEP_INTERVAL = 3600  # seconds between runs of the delivery sweep (timeouts, late flags, payouts)
    PAYMENT_GATEWAY = "sandbox"
    STRIPE_SECRET_KEY = None
    STRIPE_PUBLISHABLE_KEY = None
    STRIPE_WEBHOOK_SECRET = None
    STRIPE_CONNECT_WEBHOOK_SECRET = None  # the Connect endpoint's (account.updated), when it is another endpoint
    STRIPE_API_BASE = None  # e.g. a local stripe emulator in tests
    STRIPE_TIMEOUT = 30  # seconds per HTTP request to Stripe
    STRIPE_MAX_NETWORK_RETRIES = 2  # stripe-python's own retries (same idempotency key)
    # The Stripe API version every request names; None: the pinned stripe package's own
    # (stripe.api_version). Every parameter we send is checked against that package's types.
    STRIPE_API_VERSION = None
    # Payment methods backers may use through Stripe: "card", plus "alipay", "wechat_pay".
    STRIPE_PAYMENT_METHODS = ["card"]
    # The sandbox processor: signed webhooks to our own endpoint (/webhooks/sandbox), after
    # its own commit, in the background, retried. Chaos (tests): some twice, some reordered.
    SANDBOX_WEBHOOKS = True
    SANDBOX_WEBHOOK_URL = None  # None: delivered to this app in-process; else POSTed there
    SANDBOX_WEBHOOK_CHAOS = False
    SANDBOX_WEBHOOK_MAX_ATTEMPTS = 8
    # Where the sandbox's bank/wallet pages are reached when a link is made outside a
    # request (a job): e.g. "http://127.0.0.1:5000". None: a path on this site.
    SANDBOX_PUBLIC_URL = None
    # The sandbox's connected accounts: "instant" opens them verified, as if the firm had
    # finished onboarding at once (development: `make run` stays one command); "manual"
    # leaves them pending until its onboarding page (/sandbox/onboard/<id>) is answered.
    SANDBOX_ACCOUNTS_VERIFY = "instant"
    # What the sandbox keeps of each successful charge, shaped like card pricing (2.9% + 30).
    SANDBOX_FEE_BPS = 290
    SANDBOX_FEE_FIXED = 30  # minor units of the charge's currency
    # A dispute of a `pm_card_createDispute` charge: the fee the sandbox charges for it (minor
    # units, not given back when won, as Stripe's $15) and how long after the charge it opens.
    SANDBOX_DISPUTE_FEE = 1500
    SANDBOX_DISPUTE_DELAY = 2  # seconds
    # How long each call to the sandbox takes, as a real processor's round trip does (Stripe:
    # 0.2-0.5 s a charge): seconds, give or take SANDBOX_LATENCY_JITTER of it. 0 answers at once
    # (`make run`, the tests); `make bench` measures with 0.3 too.
    SANDBOX_LATENCY = 0.0
    SANDBOX_LATENCY_JITTER = 0.3
    # Who bears the processor's fees when a campaign succeeds: "platform" or "firm" (taken
    # from the firm's share at release). On failure the platform always bears them.
    PROCESSOR_FEES_PAID_BY = "platform"

    # Pledges
    PLEDGE_MAX_QUANTITY = 1000  # most units of one reward tier in a single pledge
    PLEDGE_RECONCILE_AFTER = 600  # seconds a pledge may sit pending before `flask pledges reconcile` re-drives it
    # Seconds a pledge may wait for the backer (3-D Secure, a wallet) before reconcile
    # cancels the payment at the processor and gives its units back.
    PLEDGE_ACTION_TIMEOUT = 3600
    PLEDGE_RECONCILE_INTERVAL = 60  # seconds between the scheduler's (or Celery beat's) reconcile runs
    # How long the processor replays a request's first answer for its idempotency key
    # (Stripe: 24 hours); reconcile re-sends a charge that never answered only within it.
    PROCESSOR_IDEMPOTENCY_WINDOW = 23 * 3600

    # Investor protection for equity: the rulebook in force (crowdfund/domain/rulebooks.py),
    # "us_reg_cf" (US Regulation Crowdfunding), "eu_ecsp" (Regulation (EU) 2020/1503) or "cn".
    # Every figure below left at None is the rulebook's own; set, it overrides it. Amounts are
    # MAJOR units of INVESTMENT_LIMIT_CURRENCY (the rulebook's: USD, EUR or CNY), converted at
    # FX_RATES wherever another currency meets them. /how-investing-works shows what is in force.
    INVESTOR_RULEBOOK = "us_reg_cf"
    INVESTMENT_LIMIT_CURRENCY = None
    # A non-accredited investor may commit, over any WINDOW_DAYS: when income OR net worth is
    # below THRESHOLD, the greater of FLOOR and LOW_RATE of the greater of the two; otherwise
    # HIGH_RATE of the greater of the two, never more than CAP. Every commitment in the window
    # counts, whatever its currency.
    INVESTMENT_LIMIT_THRESHOLD = None
    INVESTMENT_LIMIT_FLOOR = None
    INVESTMENT_LIMIT_LOW_RATE_BPS = None
    INVESTMENT_LIMIT_HIGH_RATE_BPS = None
    INVESTMENT_LIMIT_CAP = None
    INVESTMENT_LIMIT_WINDOW_DAYS = None
    EQUITY_CAMPAIGN_MIN_DURATION = None  # seconds an equity offering runs at least (Reg CF: 21 days)
    ISSUER_CAP = None  # what one firm may raise in equity over ISSUER_CAP_WINDOW_DAYS (0: no cap)
    ISSUER_CAP_WINDOW_DAYS = None
    PROGRESS_NOTICE_PERCENTS = None  # investors are mailed when held commitments reach these % of the target
    MAX_INVESTORS_PER_OFFERING = None  # distinct investors per offering (cn: 200; 0: no cap)
    EARLY_CLOSE_NOTICE_DAYS = None  # business days from an early close to its new deadline (5)
    REFLECTION_PERIOD = None  # seconds after a commitment it may be revoked, cut-off or not (eu_ecsp: 4 days)
    RECONFIRM_BUSINESS_DAYS = None  # business days to reconfirm a commitment after a material change (5)
    # eu_ecsp (crowdfund/services/entry_checks.py): a non-sophisticated investor passes the entry
    # knowledge test (KNOWLEDGE_TEST_PASS_MARK right answers) and the loss-bearing simulation
    # (LOSS_BEARING_CAPACITY_BPS of net worth) before investing, again every
    # INVESTOR_CHECKS_VALID_DAYS; one project above the greater of LARGE_INVESTMENT_WARNING (major
    # units) and LARGE_INVESTMENT_WARNING_NET_WORTH_BPS of net worth needs the warning acknowledged.
    INVESTOR_ENTRY_CHECKS = None  # True/False: whether the test and simulation are asked (eu_ecsp: True)
    INVESTOR_CHECKS_VALID_DAYS = None  # 730
    KNOWLEDGE_TEST_PASS_MARK = None  # 4 (of 5 questions)
    LOSS_BEARING_CAPACITY_BPS = None  # 1000 (10%)
    LARGE_INVESTMENT_WARNING = None  # eu_ecsp: 1000 (EUR); 0: no warning
    LARGE_INVESTMENT_WARNING_NET_WORTH_BPS = None  # 500 (5%)
    # cn (crowdfund/services/qualifications.py): investors prove financial assets OR annual income of
    # at least these (major units: CNY under cn; 0 on both: no proof asked), reviewed by an admin.
    QUALIFIED_INVESTOR_FINANCIAL_ASSETS = None  # cn: 3,000,000
    QUALIFIED_INVESTOR_ANNUAL_INCOME = None  # cn: 500,000
    UPLOAD_MAX_EVIDENCE_BYTES = 10 * 1024 * 1024  # a qualification's evidence (PDF or image), stored privately
    # The bank that holds investors' funds, shown on every equity campaign page and statement
    # (required under cn: the app does not start without it).
    CUSTODIAN_NAME = None
    # Reference exchange rates for limits (never for payments): units of each currency per US
    # dollar, published on `as_of`. Admins keep them current at /admin/fx-rates; a rate saved
    # there wins over this default for its currency.
    FX_RATES = {
        "as_of": "2026-12-01",
        "per_usd": {
            "USD": "1",
            "EUR": "0.9452",
            "CNY": "7.0712",
            "GBP": "0.7874",
            "HKD": "7.7801",
            "SGD": "1.2978",
            "JPY": "155.32",
        },
    }

    # Background work and rate limits
    CELERY_BROKER_URL = None  # unset: jobs run in-process, right away (crowdfund/jobs)
    CELERY_TASK_DEFAULT_QUEUE = "crowdfund"
    # Once the broker could not be reached, jobs are not sent to it for this many seconds
    # (their work waits in the database for the periodic runs), so that a Redis outage does
    # not hold every request up while Celery retries it.
    CELERY_BROKER_BACKOFF = 10
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN = "10 per minute"  # web logins and API token requests, per client address
    # Failed sign-ins per account (crowdfund/services/sign_in_limits.py): web logins and API token
    # requests count against one budget, whether or not the account exists; once it is spent,
    # even the right password is refused until the window ends. Wrong two-factor codes likewise.
    RATELIMIT_LOGIN_ACCOUNT = "5 per 15 minutes"
    RATELIMIT_TWO_FACTOR = "5 per 15 minutes"
    # Comments and questions each account may post on campaigns (crowdfund/services/comments.py).
    RATELIMIT_COMMENTS = "5 per minute;60 per day"
    # With the limits' store (Redis in production) unreachable, count in this process's memory
    # (and log it) rather than answer 500: limits then hold per process, not per site.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

    # JSON API
    API_TOKEN_TTL = 30 * 24 * 3600  # seconds a bearer token lives

    # Public pages for anonymous visitors (crowdfund/web/page_cache/): served as they are for
    # PAGE_CACHE_SECONDS (the most they lag behind a change; 0: rendered every time), and a
    # campaign page for up to PAGE_CACHE_MAX_SECONDS while nothing it shows has changed.
    # Where: Flask-Caching's CACHE_TYPE, each process's memory by default; "RedisCache" with
    # CACHE_REDIS_URL shares it between every web and worker process (docs/PRODUCTION.md).
    PAGE_CACHE_SECONDS = 0
    PAGE_CACHE_MAX_SECONDS = 300
    PAGE_CACHE_LOCAL_SECONDS = 2  # with a shared store: each process's own copy of a page it served
    PAGE_CACHE_LOCAL_BYTES = 32 * 2**20  # ... and how much of them it keeps (the least recently served go)
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 1000  # pages a SimpleCache keeps per process
    CACHE_KEY_PREFIX = "crowdfund:"
    # The most connections each Redis pool of a process keeps (page cache, rate limits, sweep
    # marks): redis-py opens one per thread that needs one and refuses a call past its cap rather
    # than wait, so leave one for every thread (WEB_THREADS + 2). None: that or 100 (redis-py's
    # default), whichever is more (crowdfund/pools.py).
    REDIS_MAX_CONNECTIONS = None

    # Mail: with no MAIL_SERVER, messages are written as .eml files under instance/mail/
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = "Crowdfund <no-reply@crowdfund.local>"
    MAIL_TIMEOUT = 30  # seconds for each SMTP operation
    MAIL_MAX_ATTEMPTS = 8  # then a message is left unsent, with its error, for an admin
    # The site's address in mail links (unsubscribe, campaign pages), e.g. https://crowdfund.example;
    # unset: the request's own host, or http://localhost:5000 for mail a background job writes.
    MAIL_LINK_BASE_URL = None
    # "Remind me" mails go this long before a campaign's deadline (crowdfund/jobs/reminders.py).
    REMINDER_LEAD_SECONDS = 48 * 3600


class DevelopmentConfig(Config):
    DEBUG = False
    SCHEDULER_ENABLED = False


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = True  # tests opt out per request where CSRF is not the point
    SECRET_KEY = "test-secret-key-not-for-production"
    RATELIMIT_ENABLED = True
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # cheap hashes keep the suite fast
    SETTLEMENT_RETRY_BASE = 0.01


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    # Shared by every web process, so a limit holds for the site and not per process
    # (docs/PRODUCTION.md: FLASK_RATELIMIT_STORAGE_URI names the real host).
    RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
    PAGE_CACHE_SECONDS = 10
    PAYOUT_DELAY = 14 * 24 * 3600  # card funds become available, and early chargebacks show, first


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}
