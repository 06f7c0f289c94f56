"""The load generator: a separate process with a small asyncio HTTP/1.1 client.

    python -m bench.loadgen CONFIG.json    (prints one JSON result on stdout)

A hand-written client rather than aiohttp: on a 2-core machine the load generator
shares the CPU with the server it measures, so it should cost as little as possible
per request (a keep-alive connection is reused when the server keeps it open; gunicorn's
sync workers close it after each response).

Modes (CONFIG["mode"]):

- "get": `concurrency` clients request `paths` (each client walks the list from its own
  offset) for `warmup` + `duration` seconds; only the `duration` part is measured.
  Result: requests/s, latency percentiles (ms), status counts, mean body size.
- "pledge": `backers` (emails; password `password`) log in through the web form, then each
  backs `targets` ([slug, tier_id]) through the web flow until `duration` passes or the
  tier sells out (409). flow "page_post": GET /p/<slug>/back (CSRF token and the form's
  idempotency key), then POST it; flow "post": GET the page once, then POST with a fresh
  client-made idempotency key each time (as an API client would).
  Result: acknowledged pledge ids (302 to /pledges/<id>), pledges/s, POST latency, status
  counts, sold-out answers.
"""

import asyncio
import json
import random
import re
import secrets
import sys
import time
from urllib.parse import urlencode, urlsplit


class HTTPError(Exception):
    pass


class Connection:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None

    async def request(self, method, path, *, headers=None, body=b""):
        """(status, headers {lower name: [values]}, body bytes)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=2**20)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            await self.close()
            raise HTTPError(f"connection lost: {error!r}") from None
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        status = int(parts[1])
        response_headers = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                response_headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "content-length" in response_headers:
            data = await self.reader.readexactly(int(response_headers["content-length"][0]))
        elif "chunked" in ",".join(response_headers.get("transfer-encoding", [])):
            data = await self._chunked()
        else:
            data = await self.reader.read()
            await self.close()
        if parts[0] == "HTTP/1.0" or "close" in ",".join(response_headers.get("connection", [])).lower():
            await self.close()
        return status, response_headers, data

    async def _chunked(self):
        chunks = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def latency_summary(latencies):
    values = sorted(latencies)
    return {
        "p50_ms": _ms(percentile(values, 0.50)),
        "p90_ms": _ms(percentile(values, 0.90)),
        "p99_ms": _ms(percentile(values, 0.99)),
        "max_ms": _ms(values[-1] if values else None),
        "mean_ms": _ms(sum(values) / len(values) if values else None),
    }


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 2)


# -- mode "get" -------------------------------------------------------------------------------------


async def run_get(config):
    url = urlsplit(config["base_url"])
    paths, concurrency = config["paths"], config["concurrency"]
    warmup, duration = config.get("warmup", 1.0), config["duration"]
    headers = config.get("headers") or {}
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration
    latencies, statuses, body_bytes = [], {}, [0]
    errors = []

    async def client(offset):
        conn = Connection(url.hostname, url.port)
        i = offset
        try:
            while True:
                began = time.perf_counter()
                if began >= stop_at:
                    return
                path = paths[i % len(paths)]
                i += 1
                try:
                    status, _, body = await conn.request("GET", path, headers=headers)
                except (HTTPError, OSError) as error:
                    errors.append(repr(error))
                    await conn.close()
                    continue
                ended = time.perf_counter()
                if began >= measure_from and ended <= stop_at:
                    latencies.append(ended - began)
                    statuses[status] = statuses.get(status, 0) + 1
                    body_bytes[0] += len(body)
        finally:
            await conn.close()

    step = max(1, len(paths) // concurrency)
    await asyncio.gather(*(client(k * step) for k in range(concurrency)))
    done = len(latencies)
    return {
        "mode": "get",
        "concurrency": concurrency,
        "duration_s": duration,
        "requests": done,
        "rps": round(done / duration, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": len(errors),
        "error_sample": errors[:3],
        "mean_bytes": round(body_bytes[0] / done) if done else 0,
        **latency_summary(latencies),
    }


# -- mode "pledge" ----------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
ATTEMPT = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="idempotency_key"')
PLEDGE_LOCATION = re.compile(r"/pledges/(\d+)$")


def _first_group(pattern, text):
    match = pattern.search(text)
    if not match:
        return None
    return next(g for g in match.groups() if g)


class Backer:
    """One logged-in browser: its own connection and cookie jar (name -> value)."""

    def __init__(self, url, email):
        self.conn = Connection(url.hostname, url.port)
        self.email = email
        self.cookies = {}

    def _headers(self, extra=None):
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep(self, response_headers):
        for cookie in response_headers.get("set-cookie", []):
            pair = cookie.split(";", 1)[0]
            name, _, value = pair.partition("=")
            if value:
                self.cookies[name.strip()] = value.strip()
            else:
                self.cookies.pop(name.strip(), None)

    async def get(self, path, keep_cookies=True):
        status, headers, body = await self.conn.request("GET", path, headers=self._headers())
        if keep_cookies:
            self._keep(headers)
        return status, headers, body.decode("utf-8", "replace")

    async def post(self, path, form, keep_cookies=True):
        body = urlencode(form).encode()
        status, headers, data = await self.conn.request(
            "POST", path, body=body, headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"})
        )
        if keep_cookies:
            self._keep(headers)
        return status, headers, data.decode("utf-8", "replace")

    async def login(self, password):
        status, _, page = await self.get("/account/login")
        token = _first_group(CSRF, page)
        if status != 200 or not token:
            raise HTTPError(f"login page answered {status}")
        status, _, _ = await self.post(
            "/account/login", {"email": self.email, "password": password, "csrf_token": token}
        )
        if status != 302:
            raise HTTPError(f"login of {self.email} answered {status}")

    async def get_token(self, password):
        """For the API flow: a bearer token instead of a session."""
        body = json.dumps({"email": self.email, "password": password}).encode()
        status, _, data = await self.conn.request(
            "POST", "/api/v1/tokens", body=body, headers={"Content-Type": "application/json"}
        )
        if status != 201:
            raise HTTPError(f"token for {self.email} answered {status}")
        self.token = json.loads(data)["token"]

    async def post_json(self, path, payload, idempotency_key):
        status, headers, data = await self.conn.request(
            "POST",
            path,
            body=json.dumps(payload).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": idempotency_key,
            },
        )
        return status, headers, data


def pledge_form(csrf, attempt, tier_id):
    return {
        "csrf_token": csrf,
        "idempotency_key": attempt,
        "tier_id": str(tier_id),
        "quantity": "1",
        "amount": "",
        "extra": "",
        "payment_method": "pm_card_visa",
        "shipping_country": "",
    }


async def run_pledge(config):
    url = urlsplit(config["base_url"])
    targets, flow = config["targets"], config.get("flow", "page_post")
    duration, password = config["duration"], config["password"]
    rng = random.Random(config.get("seed", 1))
    backers = [Backer(url, email) for email in config["backers"]]

    # Log everyone in first (not measured), a few at a time.
    gate = asyncio.Semaphore(config.get("login_concurrency", 20))

    async def log_in(backer):
        async with gate:
            if flow == "api":
                await backer.get_token(password)
            else:
                await backer.login(password)

    await asyncio.gather(*(log_in(b) for b in backers))
    # Start on new connections: a server that keeps connections alive (gthread) closes one
    # left idle while the others logged in, and the first request on it would find it gone.
    for backer in backers:
        await backer.conn.close()

    acknowledged, latencies, statuses, errors = [], [], {}, []
    sold_out = [0]
    start, started_at = time.perf_counter(), time.time()
    stop_at = start + duration
    finished = []

    async def back(backer, seed):
        local = random.Random(seed)
        csrf = None
        while time.perf_counter() < stop_at:
            slug, tier_id, project_id = targets[local.randrange(len(targets))]
            path = f"/p/{slug}/back"
            began = time.perf_counter()
            try:
                if flow == "api":
                    status, _, data = await backer.post_json(
                        f"/api/v1/projects/{project_id}/pledges",
                        {"tier_id": tier_id, "quantity": 1, "payment_method": "pm_card_visa"},
                        secrets.token_urlsafe(18),
                    )
                    ended = time.perf_counter()
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if status == 201:
                        acknowledged.append([json.loads(data)["id"], round(ended - start, 4)])
                        latencies.append(ended - began)
                    elif status == 409:
                        sold_out[0] += 1
                        if config.get("stop_when_sold_out", True):
                            break
                    continue
                if flow == "page_post" or csrf is None:
                    status, _, page = await backer.get(path)
                    if status != 200:
                        statuses[f"GET {status}"] = statuses.get(f"GET {status}", 0) + 1
                        continue
                    csrf, attempt = _first_group(CSRF, page), _first_group(ATTEMPT, page)
                if flow == "post":  # the latency is the POST's alone
                    began, attempt = time.perf_counter(), secrets.token_urlsafe(18)
                status, headers, _ = await backer.post(
                    path, pledge_form(csrf, attempt, tier_id), keep_cookies=flow == "page_post"
                )
            except (HTTPError, OSError) as error:
                errors.append(repr(error))
                await backer.conn.close()
                continue
            ended = time.perf_counter()
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 302:
                match = PLEDGE_LOCATION.search(headers.get("location", [""])[0])
                if match:
                    acknowledged.append([int(match.group(1)), round(ended - start, 4)])
                    latencies.append(ended - began)
            elif status == 409:
                sold_out[0] += 1
                if config.get("stop_when_sold_out", True):
                    break
        finished.append(time.perf_counter())

    await asyncio.gather(*(back(b, rng.random()) for b in backers))
    for backer in backers:
        await backer.conn.close()
    elapsed = min(duration, max(finished) - start) if finished else duration
    if config.get("stop_when_sold_out", True) and sold_out[0] and acknowledged:
        elapsed = max(t for _, t in acknowledged)  # up to the last unit sold
    return {
        "mode": "pledge",
        "flow": flow,
        "backers": len(backers),
        "targets": len(targets),
        "started_at": started_at,
        "elapsed_s": round(elapsed, 3),
        "acknowledged": len(acknowledged),
        "pledges_per_s": round(len(acknowledged) / elapsed, 1) if elapsed else 0.0,
        "sold_out_answers": sold_out[0],
        "statuses": statuses,
        "errors": len(errors),
        "error_sample": errors[:3],
        "pledge_ids": [p for p, _ in acknowledged],
        **latency_summary(latencies),
    }


def main(argv=None):
    argv = argv if argv is not None else sys.argv[1:]
    with open(argv[0]) as f:
        config = json.load(f)
    runner = {"get": run_get, "pledge": run_pledge}[config["mode"]]
    result = asyncio.run(runner(config))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
