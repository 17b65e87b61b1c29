"""The load benchmark: national-scale data, gunicorn with 2 workers, a load from 127.0.0.1.

For each backend (SQLite under bench/data/, then PostgreSQL at BENCH_PG_URL, skipped with a
clear message when unreachable) it generates the data, starts gunicorn, and runs every
scenario for a fixed time after a short warm-up, with a bounded number of requests, from a
pure-Python client (threads, one keep-alive http.client connection each). It prints requests/s,
p50 and p99 latency and the ratio to the baseline (GET /sante), checks every status code, and
writes the Markdown table to bench/results/latest.md.

    .venv/bin/python -m bench.run [--backends sqlite,postgresql] [--duration 8]
                                  [--concurrency 8] [--wait-quiet 60] [--only poll]
"""

import argparse
import html
import http.client
import itertools
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.engine import make_url

from bench.generate import BenchData, generate

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results" / "latest.md"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test_bench")
HOST = "127.0.0.1"  # the only address this benchmark ever loads
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOISY = 25.0  # % of one core used by other programs above which a measure is flagged


# --------------------------------------------------------------------------- CPU accounting


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                head, _, tail = f.read().rpartition(")")
            found.append((int(entry), int(tail.split()[1]), head.partition("(")[2]))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_cpu() -> float:
    """CPU seconds spent by the whole machine (all cores; idle and iowait excluded)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def postgres_cpu(database: str | None) -> float:
    """CPU seconds of the PostgreSQL backends serving this database (titled
    "postgres: <user> <database> <client>")."""
    if not database:
        return 0.0
    return sum(
        _proc_cpu(p)
        for p, _ppid, name in _processes()
        if name.startswith("postgres") and f" {database} " in _cmdline(p)
    )


def busy_elsewhere(seconds: float = 1.0) -> float:
    """% of one core used by other programs while we do nothing."""
    own0, total0 = time.process_time(), machine_cpu()
    time.sleep(seconds)
    own1, total1 = time.process_time(), machine_cpu()
    return max(0.0, 100 * ((total1 - total0) - (own1 - own0)) / seconds)


def wait_until_quiet(limit: float, log=print) -> float:
    """Wait (at most `limit` s) until other programs use less than NOISY % of a core."""
    deadline = time.monotonic() + limit
    load = busy_elsewhere()
    while load > NOISY and time.monotonic() < deadline:
        log(f"  machine busy ({load:.0f} % of a core used by other programs), waiting…")
        time.sleep(4)
        load = busy_elsewhere()
    return load


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn -w 2 on 127.0.0.1:<free port>, in its own process group, always stopped."""

    def __init__(self, database_url: str, name: str, app: str, workers: int = 2):
        self.port = free_port()
        parsed = make_url(database_url)
        self.pg_database = parsed.database if parsed.get_backend_name() == "postgresql" else None
        self.log_path = DATA_DIR / f"gunicorn-{name}.log"
        env = dict(os.environ)
        env.update(DATABASE_URL=database_url, SECRET_KEY="bench-secret-not-for-production")
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                *("-w", str(workers), "-b", f"{HOST}:{self.port}", "--log-level", "warning"),
                app,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/sante")
                ready = conn.getresponse().status == 200
                conn.close()
                if ready and len(self.worker_pids()) >= 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /sante within {timeout:.0f} s:\n{self.tail()}")

    def worker_pids(self) -> list[int]:
        return [p for p, ppid, _name in _processes() if ppid == self.proc.pid]

    def cpu(self) -> float:
        return sum(_proc_cpu(p) for p in [self.proc.pid, *self.worker_pids()])

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.stop()


# --------------------------------------------------------------------------- the client


class Client:
    """One keep-alive connection (http.client re-opens it when the server closes it)."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None, headers=None):
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            return response.status, response, response.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            return 0, None, f"{type(error).__name__}: {error}".encode()

    def close(self):
        self.conn.close()


def cookies_from(response, jar: dict[str, str]) -> dict[str, str]:
    for header in response.msg.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            jar[name] = morsel.value
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


# --------------------------------------------------------------------------- measuring

# A request: (method, path, body, headers, expected status, check of the body or None).
Request = tuple[str, str, str | None, dict | None, int, Callable[[bytes], bool] | None]


@dataclass
class Scenario:
    name: str
    make: Callable[[random.Random], Request | None]  # None: nothing left to send
    target: float | None  # minimum ratio to the baseline; None for the baseline itself
    max_requests: int | None = None


@dataclass
class Result:
    backend: str
    scenario: str
    target: float | None
    requests: int = 0  # answered within the measured window
    seconds: float = 0.0
    errors: int = 0  # unexpected answers, warm-up included
    ok_total: int = 0  # expected answers, warm-up included
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0
    app_cpu: float = 0.0
    db_cpu: float = 0.0
    other_cpu: float = 0.0
    ratio: float | None = None
    server_ms: float = 0.0  # CPU of gunicorn + PostgreSQL per answered request
    client_ms: float = 0.0  # CPU of this client per answered request
    cpu_ratio: float | None = None  # baseline's CPU per request ÷ this one's
    ref_rps: float | None = None  # the baseline measured just before this scenario

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def verdict(self) -> str:
        if self.errors:
            return "ERRORS"
        if self.target is None or self.ratio is None:
            return "—"
        return "PASS" if self.ratio >= self.target else "BELOW"


def run_scenario(
    server: "Gunicorn",
    backend: str,
    scenario: Scenario,
    args: argparse.Namespace,
    duration: float | None = None,
    warmup: float | None = None,
) -> Result:
    """`concurrency` threads send requests for warm-up + duration seconds (or until the cap)."""
    duration = args.duration if duration is None else duration
    warmup = args.warmup if warmup is None else warmup
    result = Result(backend, scenario.name, scenario.target)
    cap = min(args.max_requests, scenario.max_requests or args.max_requests)
    issued = itertools.count()
    lock = threading.Lock()
    start = time.perf_counter()
    measure_from = start + warmup
    measure_to = measure_from + duration
    last_done = [measure_from]

    def worker(seed: int):
        rng = random.Random(seed)
        client = Client(server.port)
        latencies: list[float] = []
        errors, oks, samples = 0, 0, []
        try:
            while next(issued) < cap:
                request = scenario.make(rng)
                if request is None:
                    break
                method, path, body, headers, expected, check = request
                t0 = time.perf_counter()
                if t0 >= measure_to:
                    break
                status, _response, data = client.request(method, path, body, headers)
                t1 = time.perf_counter()
                if status == expected and (check is None or check(data)):
                    oks += 1
                else:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(f"{method} {path[:70]} → {status} {data[:160]!r}")
                if measure_from <= t0 and t1 <= measure_to:
                    latencies.append(t1 - t0)
                    last_done[0] = max(last_done[0], t1)
        finally:
            client.close()
            with lock:
                result.latencies.extend(latencies)
                result.errors += errors
                result.ok_total += oks
                result.error_samples.extend(samples)

    threads = [
        threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.concurrency)
    ]
    for t in threads:
        t.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu0 = (time.process_time(), server.cpu(), postgres_cpu(server.pg_database), machine_cpu())
    while time.perf_counter() < measure_to and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    cpu1 = (time.process_time(), server.cpu(), postgres_cpu(server.pg_database), machine_cpu())
    stopped_at = time.perf_counter()
    for t in threads:
        t.join(timeout=60)
    # Ended early (cap reached, nothing left to commit): the window ends at the last answer.
    early = stopped_at < measure_to
    result.seconds = (last_done[0] - measure_from) if early else duration
    result.requests = len(result.latencies)
    wall = max(1e-9, stopped_at - measure_from)
    client, app, db, total = (b - a for a, b in zip(cpu0, cpu1, strict=True))
    result.client_cpu = 100 * client / wall
    result.app_cpu = 100 * app / wall
    result.db_cpu = max(0.0, 100 * db / wall)
    result.other_cpu = max(0.0, 100 * (total - client - app - db) / wall)
    answered = len(result.latencies)
    result.server_ms = 1000 * (app + max(0.0, db)) / answered if answered else 0.0
    result.client_ms = 1000 * client / answered if answered else 0.0
    return result


# --------------------------------------------------------------------------- scenarios

_POLL_RE = re.compile(r'id="live-poll"[^>]*?hx-get="([^"]+)"', re.S)
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HX = {"HX-Request": "true"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _has(marker: bytes) -> Callable[[bytes], bool]:
    return lambda body: marker in body


def _get_ok(client: Client, path: str, headers=None) -> str:
    status, _r, data = client.request("GET", path, headers=headers)
    if status != 200:
        raise RuntimeError(f"GET {path} → {status}: {data[:300]!r}")
    return data.decode()


def poll_url(page_html: str) -> str:
    match = _POLL_RE.search(page_html)
    if not match:
        raise RuntimeError("no live-poll element in the page")
    return html.unescape(match.group(1))


def stale(url: str, rng: random.Random) -> str:
    """The same poll with one proposal's count off by one: the server must answer 200."""
    base, _, query = url.partition("?s=")
    tokens_part, amp, rest = query.partition("&")
    tokens = tokens_part.split("-")
    i = rng.randrange(len(tokens))
    # id.count.threshold.phase.version: only the count changes.
    pid, count, *fields = tokens[i].split(".")
    count = str(int(count) + 1 if count == "0" else int(count) - 1)
    tokens[i] = ".".join((pid, count, *fields))
    return f"{base}?s={'-'.join(tokens)}{amp}{rest}"


def build_read_scenarios(port: int, data: BenchData) -> list[Scenario]:
    """Signed-out browsing. Browser requests carry the visitor's session cookie (set by the
    first page, as a browser would keep it); the baseline, a load balancer's probe, none."""
    client = Client(port)
    try:
        status, response, _body = client.request("GET", "/")
        visitor = cookie_header(cookies_from(response, {})) if status == 200 else ""
        browser = {"Cookie": visitor} if visitor else {}
        hx = {**HX, **browser}
        list_polls = [poll_url(_get_ok(client, f"/?page={p}", browser)) for p in range(1, 21)]
        detail_slugs = random.Random(1).sample(data.slugs, 20)
        detail_polls = [
            poll_url(_get_ok(client, f"/propositions/{s}", browser)) for s in detail_slugs
        ]
    finally:
        client.close()
    if not all(u.count("-") == 11 for u in list_polls):
        raise RuntimeError("a list page's poll does not carry 12 proposals")
    filtered = [
        "/?tri=proches&page=3",
        "/?tri=financables",
        "/?statut=financable&tri=proches&page=2",
        "/?statut=ouverte&page=10",
        "/?categorie=ecologie&page=2",
        "/?q=jardin",
        "/?q=cantine+solidaire&tri=proches",
        "/?page=50",
    ]
    oob, page = _has(b"hx-swap-oob"), _has(b"</html>")
    return [
        Scenario("baseline GET /sante", lambda r: ("GET", "/sante", None, None, 200, None), None),
        Scenario(
            "poll unchanged (list, 12 cards) → 204",
            lambda r: ("GET", r.choice(list_polls), None, hx, 204, None),
            0.5,
        ),
        Scenario(
            "poll changed (list, 1 of 12 stale) → 200",
            lambda r: ("GET", stale(r.choice(list_polls), r), None, hx, 200, oob),
            0.5,
        ),
        Scenario(
            "poll changed (proposal page) → 200",
            lambda r: ("GET", stale(r.choice(detail_polls), r), None, hx, 200, oob),
            0.5,
        ),
        Scenario("list page GET /", lambda r: ("GET", "/", None, browser, 200, page), 0.2),
        Scenario(
            "list page, filters/sort/search",
            lambda r: ("GET", r.choice(filtered), None, browser, 200, page),
            0.2,
        ),
        Scenario(
            "proposal page (signed out)",
            lambda r: ("GET", f"/propositions/{r.choice(data.slugs)}", None, browser, 200, page),
            0.2,
        ),
    ]


def _sign_in(client: Client, email: str, password: str) -> dict[str, str]:
    """Sign in through the form, as a browser does; the session cookie."""
    jar: dict[str, str] = {}
    status, response, body = client.request("GET", "/connexion")
    if status != 200:
        raise RuntimeError(f"GET /connexion → {status}")
    cookies_from(response, jar)
    token = _CSRF_RE.search(body.decode()).group(1)
    form = {"email": email, "password": password, "csrf_token": token}
    status, response, body = client.request(
        "POST", "/connexion", urlencode(form), {**FORM, "Cookie": cookie_header(jar)}
    )
    if status != 303:
        raise RuntimeError(f"POST /connexion as {email} → {status}: {body[:300]!r}")
    return cookies_from(response, jar)


def sign_in(port: int, data: BenchData) -> tuple[dict[str, str], str]:
    """The bench manager's session cookie and a CSRF token read from a proposal page."""
    client = Client(port)
    try:
        jar = _sign_in(client, data.manager_email, data.manager_password)
        path = f"/propositions/{data.slugs[0]}"
        status, response, body = client.request("GET", path, headers={"Cookie": cookie_header(jar)})
        page = body.decode()
        if status != 200 or "Engager le groupe" not in page:
            raise RuntimeError(f"GET {path} signed in → {status}, without the commit form")
        cookies_from(response, jar)
        return jar, _CSRF_RE.search(page).group(1)
    finally:
        client.close()


_THREAD_POLL_RE = re.compile(r'id="thread-poll"[^>]*?hx-get="([^"]+)"', re.S)


def build_network_scenarios(port: int, data: BenchData) -> list[Scenario]:
    """The network of elected officials' pages, signed in as the bench member (who sees the
    network's space), and the thread's poll."""
    net = data.network
    client = Client(port)
    try:
        jar = _sign_in(client, net.member_email, net.member_password)
        status, response, body = client.request(
            "GET", "/reseau/ressources/", headers={"Cookie": cookie_header(jar)}
        )
        if status != 200 or b'id="library-results"' not in body:
            raise RuntimeError(f"GET /reseau/ressources/ as the bench member → {status}")
        member = {"Cookie": cookie_header(cookies_from(response, jar))}
        threads = random.Random(3).sample(net.thread_ids, 20)
        thread_polls = []
        for thread_id in threads:
            match = _THREAD_POLL_RE.search(
                _get_ok(client, f"/reseau/discussions/{thread_id}", member)
            )
            if not match:
                raise RuntimeError(f"no thread-poll element in thread {thread_id}'s page")
            thread_polls.append(html.unescape(match.group(1)))
    finally:
        client.close()
    hx = {**HX, **member}
    library = "/reseau/ressources/"
    searches = [f"{library}?{urlencode({'q': word})}" for word in net.search_words]
    filtered = [f"{library}?{query}" for query in net.filter_queries]
    directory = "/reseau/membres?niveau=municipal&departement=33"

    def results(body: bytes) -> bool:
        return b'class="resource-card"' in body and b"</html>" in body

    return [
        Scenario(
            "network: library search ?q=<word>",
            lambda r: ("GET", r.choice(searches), None, member, 200, results),
            0.2,
        ),
        Scenario(
            "network: library search + kind, level, theme",
            lambda r: ("GET", r.choice(filtered), None, member, 200, results),
            0.2,
        ),
        Scenario(
            "network: resource page",
            lambda r: (
                "GET",
                f"{library}{r.choice(net.resource_ids)}",
                None,
                member,
                200,
                _has(b'id="reprises"'),
            ),
            0.2,
        ),
        Scenario(
            "network: directory municipal, 33",
            lambda r: ("GET", directory, None, member, 200, _has(b'class="member-card"')),
            0.2,
        ),
        Scenario(
            "network: thread page (~30 posts)",
            lambda r: (
                "GET",
                f"/reseau/discussions/{r.choice(net.thread_ids)}",
                None,
                member,
                200,
                _has(b'id="thread-poll"'),
            ),
            0.2,
        ),
        Scenario(
            "network: thread poll unchanged → 204",
            lambda r: ("GET", r.choice(thread_polls), None, hx, 204, None),
            0.5,
        ),
    ]


def build_commit_scenario(port: int, data: BenchData) -> Scenario:
    """POST /propositions/<id>/engagement for (pool group, proposal) pairs never committed."""
    jar, token = sign_in(port, data)
    # Each POST starts from the session as it was after sign-in (a browser would follow the
    # 303 and read the flash message; we do not follow it, so we do not keep its cookie).
    headers = {**FORM, "Cookie": cookie_header(jar)}
    pairs = [(g, p) for g in data.pool_group_ids for p in data.proposal_ids]
    random.Random(7).shuffle(pairs)
    queue = iter(pairs)
    lock = threading.Lock()

    def make(_rng):
        with lock:
            pair = next(queue, None)
        if pair is None:
            return None
        group_id, proposal_id = pair
        body = urlencode(
            {"group_id": group_id, "note": "Banc d'essai : reprise locale.", "csrf_token": token}
        )
        return ("POST", f"/propositions/{proposal_id}/engagement", body, headers, 303, None)

    return Scenario("commit POST → 303", make, 0.1, max_requests=len(pairs))


def check_integrity(url: str, generated: int, committed: int) -> tuple[bool, str]:
    """After the commit scenario: counts equal active rows; new rows = answers 303; the
    reservations add up to the round's and the proposals' counters, within the total."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.scalar(text("SELECT count(*) FROM commitment WHERE status = 'active'"))
            total = conn.scalar(text("SELECT coalesce(sum(commitment_count), 0) FROM proposal"))
            drift = conn.scalar(
                text(
                    "SELECT count(*) FROM proposal p WHERE p.commitment_count != "
                    "(SELECT count(*) FROM commitment c WHERE c.proposal_id = p.id "
                    "AND c.status = 'active')"
                )
            )
            # Rounds whose reserved_cents is not the sum of their active reservations or
            # exceeds their total; proposals whose counters differ from their reservations.
            budget = conn.scalar(
                text(
                    "SELECT count(*) FROM budget_round r WHERE r.reserved_cents > r.total_cents "
                    "OR r.reserved_cents != (SELECT coalesce(sum(v.amount_cents), 0) "
                    "FROM reservation v WHERE v.round_id = r.id AND v.released_at IS NULL)"
                )
            )
            budget += conn.scalar(
                text(
                    "SELECT count(*) FROM proposal p WHERE p.reserved_count != "
                    "(SELECT count(*) FROM reservation v WHERE v.proposal_id = p.id "
                    "AND v.released_at IS NULL) OR p.reserved_cents != "
                    "(SELECT coalesce(sum(v.amount_cents), 0) FROM reservation v "
                    "WHERE v.proposal_id = p.id AND v.released_at IS NULL)"
                )
            )
    finally:
        engine.dispose()
    ok = drift == 0 and budget == 0 and rows == total and rows - generated == committed
    return ok, (
        f"after the commit scenario: {rows:,} active commitments, sum of counts {total:,}, "
        f"{drift} proposals whose count differs from their rows, {rows - generated:,} new rows "
        f"for {committed:,} answers 303, {budget} reservation counters off their rows "
        f"→ {'consistent' if ok else 'INCONSISTENT'}"
    )


# --------------------------------------------------------------------------- reporting

HEADERS = [
    *("backend", "scenario", "req/s", "baseline req/s", "p50 ms", "p99 ms", "ratio", "target"),
    "verdict",
    *("errors", "requests", "server CPU ms/req", "CPU ratio"),
    "CPU % client / app / PG / other",
]


def _ratio(r: Result) -> str:
    """Two decimals, or three when two would round across the target (0.096 is below 0.1)."""
    if r.ratio is None:
        return "—"
    short = f"{r.ratio:.2f}"
    if r.target is not None and (float(short) >= r.target) != (r.ratio >= r.target):
        return f"{r.ratio:.3f}"
    return short


def fmt_row(r: Result) -> list[str]:
    noisy = " ⚠" if r.other_cpu > NOISY else ""
    return [
        r.backend,
        r.scenario,
        f"{r.rps:,.0f}",
        f"{r.ref_rps:,.0f}" if r.ref_rps else "—",
        f"{r.percentile(50):.1f}",
        f"{r.percentile(99):.1f}",
        _ratio(r),
        f"≥ {r.target}" if r.target is not None else "—",
        r.verdict,
        str(r.errors),
        f"{r.requests:,}",
        f"{r.server_ms:.2f}",
        f"{r.cpu_ratio:.2f}" if r.cpu_ratio is not None else "—",
        f"{r.client_cpu:.0f} / {r.app_cpu:.0f} / {r.db_cpu:.0f} / {r.other_cpu:.0f}{noisy}",
    ]


def markdown_table(results: list[Result]) -> str:
    rows = [HEADERS, ["---"] * len(HEADERS), *(fmt_row(r) for r in results)]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def print_line(r: Result) -> None:
    print(
        f"  {r.scenario:42} {r.rps:7,.0f} req/s  p50 {r.percentile(50):6.1f} ms  "
        f"p99 {r.percentile(99):6.1f} ms  ratio {_ratio(r):>5}  {r.verdict:6}  "
        f"errors {r.errors}  server {r.server_ms:.2f} ms/req  cpu client/app/pg/other "
        f"{r.client_cpu:.0f}/{r.app_cpu:.0f}/{r.db_cpu:.0f}/{r.other_cpu:.0f} %",
        flush=True,
    )
    for sample in r.error_samples[:3]:
        print(f"      unexpected: {sample}")


# --------------------------------------------------------------------------- main


def bench_backend(name: str, url: str, args, results: list[Result], notes: list[str]) -> None:
    print(f"\n== {name}: generating national-scale data", flush=True)
    data = generate(url, log=print)
    notes.append(f"{name}: data generated in {data.seconds:.1f} s ({data.fundable} fundable).")
    if data.network is not None:
        net = data.network
        notes.append(
            f"{name}: network data in {net.seconds:.1f} s of those ({net.timing()}); "
            + ", ".join(f"« {w} » finds {n:,}" for w, n in net.search_hits.items())
            + f" resources; the directory (municipal, 33) {net.directory_total} members."
        )
    with Gunicorn(url, name, args.app) as server:
        server.wait_ready()
        print(f"== {name}: gunicorn -w 2 on {HOST}:{server.port}", flush=True)
        scenarios = build_read_scenarios(server.port, data)
        if data.network is not None:
            scenarios += build_network_scenarios(server.port, data)
        scenarios.append(build_commit_scenario(server.port, data))
        baseline_scenario = scenarios[0]
        baseline: Result | None = None
        for scenario in scenarios:
            is_baseline = scenario is baseline_scenario
            if args.only and not is_baseline and not any(o in scenario.name for o in args.only):
                continue
            if args.wait_quiet:
                wait_until_quiet(args.wait_quiet)
            if is_baseline or not args.adjacent:
                reference = None
            else:
                # The machine's speed drifts (other programs, other virtual machines on the
                # host): each scenario is compared with a short baseline taken just before it.
                reference = run_scenario(
                    server, name, baseline_scenario, args, duration=args.adjacent, warmup=0.5
                )
            result = run_scenario(server, name, scenario, args)
            if is_baseline:
                baseline = result
            ref = reference or baseline
            if ref and ref.rps:
                result.ref_rps = ref.rps
                result.ratio = result.rps / ref.rps
                cost = result.server_ms + result.client_ms
                if cost:
                    result.cpu_ratio = (ref.server_ms + ref.client_ms) / cost
            if reference is not None and reference.errors:
                result.errors += reference.errors
                result.error_samples += reference.error_samples
            results.append(result)
            print_line(result)
            if scenario.name.startswith("commit"):
                ok, line = check_integrity(url, data.counts["commitment"], result.ok_total)
                print(f"  {line}")
                notes.append(f"{name}: {line}.")
                if not ok:
                    result.errors += 1
        tail = server.tail()
        if "Traceback" in tail:
            print(f"  gunicorn's log ({server.log_path}) ends with:\n{tail}")


def _create_database_if_missing(url: str) -> None:
    """On a fresh machine the bench database does not exist yet: create it from the server's
    maintenance database (nothing happens if that fails too; the check below says why)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    engine = create_engine(
        target.set(database="postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception:  # noqa: BLE001 (reported by postgres_problem)
        pass
    finally:
        engine.dispose()


def postgres_problem(url: str) -> str | None:
    from sqlalchemy import create_engine, text

    _create_database_if_missing(url)
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as error:  # noqa: BLE001 (any failure means: skip this backend)
        return str(error).strip().splitlines()[0]
    finally:
        engine.dispose()


def _on_sigterm(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Commun load benchmark (127.0.0.1 only)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_SECONDS", 8)))
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument(
        "--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", 8))
    )
    parser.add_argument("--max-requests", type=int, default=60_000, help="cap per scenario")
    parser.add_argument(
        "--adjacent",
        type=float,
        default=3.0,
        help="seconds of baseline measured just before each scenario, for its ratio (0: off)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=float(os.environ.get("BENCH_WAIT_QUIET", 0)),
        help="before each scenario, wait up to this many seconds for other programs to calm down",
    )
    parser.add_argument("--only", action="append", help="run only the scenarios containing this")
    parser.add_argument("--app", default="app:create_app()", help="WSGI app given to gunicorn")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    t0 = time.perf_counter()
    results: list[Result] = []
    notes: list[str] = []
    status = 0
    try:
        for name in (n.strip() for n in args.backends.split(",")):
            if name == "sqlite":
                url = f"sqlite:///{DATA_DIR / 'bench.sqlite3'}"
            elif name == "postgresql":
                url = PG_URL
                problem = postgres_problem(url)
                if problem:
                    msg = f"PostgreSQL unreachable at {url} ({problem}): backend SKIPPED."
                    print(f"\n== postgresql: {msg}", flush=True)
                    notes.append(msg)
                    continue
            else:
                parser.error(f"unknown backend {name!r}")
            try:
                bench_backend(name, url, args, results, notes)
            except Exception as error:  # noqa: BLE001 (report it, go on with the next backend)
                status = 1
                msg = f"{name}: benchmark FAILED: {type(error).__name__}: {error}"
                print(f"  {msg}", file=sys.stderr, flush=True)
                notes.append(msg)
    except KeyboardInterrupt:
        print("\ninterrupted; gunicorn stopped", file=sys.stderr)
        return 130
    elapsed = time.perf_counter() - t0
    noisy = [r for r in results if r.other_cpu > NOISY]
    if noisy:
        notes.append(
            f"⚠ {len(noisy)} measure(s) taken while other programs used more than {NOISY:.0f} % "
            "of a core: their figures understate the app."
        )
    lines = [
        f"# Commun benchmark, {started:%Y-%m-%d %H:%M %Z}",
        "",
        f"Machine: {os.cpu_count()} CPU, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}. Server: gunicorn -w 2 (sync workers) on "
        f"127.0.0.1. Client: this process on the same machine, {args.concurrency} threads "
        f"with http.client; {args.warmup:g} s warm-up then {args.duration:g} s measured per "
        f"scenario, at most {args.max_requests:,} requests each.",
        "",
        "Data: 10,000 groups, 1,000 published proposals, 200,000 active commitments, base "
        "threshold 150; the network of elected officials: 3,000 members and applicants, about "
        "4,800 mandates, 20,000 resources, 2,000 threads, 60,000 posts. Ratio = req/s ÷ "
        "baseline req/s, the baseline being measured again "
        f"({args.adjacent:g} s) just before each scenario, on the same backend. CPU: % of one "
        "core during the measured window (client = this process, app = gunicorn, PG = the "
        "PostgreSQL backends of the bench database, other = the rest of the machine, i.e. "
        "other programs; 200 % = both cores). Server CPU ms/req = (app + PG CPU) ÷ answers. "
        "CPU ratio = the baseline's CPU per request (server + client) ÷ this scenario's: the "
        "ratio a dedicated, CPU-bound machine would give, much less sensitive to other "
        "programs than req/s (⚠ = other programs used more than "
        f"{NOISY:.0f} % of a core during the measure).",
        "",
        markdown_table(results),
        "",
        *(f"- {n}" for n in notes),
        "- Targets (issue 2): poll ≥ 0.5 × baseline, list and proposal pages ≥ 0.2, "
        "commit ≥ 0.1. The network's targets are our own (issue 6 gives none), on the same "
        "scale: its pages ≥ 0.2, the thread's poll ≥ 0.5. "
        f"Total run time {elapsed:.0f} s.",
    ]
    report = "\n".join(lines) + "\n"
    print("\n" + report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 1 if status or any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
