"""Bounded load test: mixed reads and writes against gunicorn, then a check of what was stored.

Makes a fresh SQLite database in bench/results/ (or uses DATABASE_URL), seeds it with
`toker seed --count N --seed 2026`, creates an admin and an API token with the CLI, and starts
gunicorn with --workers workers on a free 127.0.0.1 port. --clients client processes then send
a mixed workload with the bearer token for --duration seconds (after a short warm-up that is
not measured): about 80 % reads (lists with and without filters, one profile, its vector,
look-alikes, the video catalogue, rarely the map) and 20 % writes (connecting new accounts,
re-syncing existing ones, deleting profiles the client itself created). Every request has a
timeout; each kind's count, throughput, latency percentiles, status codes, connection errors
and timeouts are counted.

After gunicorn stops, the store is checked against what the server acknowledged: profiles =
before + created (201) - deleted (204); no duplicate account; every profile has its vector and
weight rows that agree with it; no orphaned link; every acknowledged create is there and every
acknowledged delete is gone; each re-synced account's version rose by exactly its acknowledged
re-syncs. Exits non-zero on any 5xx, connection error, timeout or mismatch.

Freshness under the load: when the mix has writes, one more process connects a new account
about once a second during the measured window and, as soon as the 201 arrives, asks
/api/v1/profiles/nearest for the new profile's own interest mix over --probes new connections
(so the answers come from different workers): every answer must list the new profile. Then it
deletes the profile and asks again: no answer may list it. It reports how many answers after
an acknowledgement were stale and the time from the acknowledgement until the last stale
answer (0 when none was); more than 1 s fails the run. Its writes count in the store check.
Without writes (the read-only run), the probe asks the same reads at the same pace for seeded
profiles' mixes, so that both runs carry the same traffic besides the measured mix.

Alternating: with --alternate SECONDS the measured window alternates phases of that length
with the writes and without them (the same reads; the probe asks its reads without its
writes), starting with writes. Both rates then come from the same minutes of the same server,
so the share of the read-only rate the mix keeps is not moved by the machine's drift between
two runs (on these machines the same code's rate moved by a third within minutes). A phase
without writes starts from the state the writes left (pages to read again, a matrix to patch):
the share it gives is, if anything, a little above that of two separate runs.

    .venv/bin/python bench/load.py                       # 60 s, 4 workers, 8 clients
    .venv/bin/python bench/load.py --duration 10 --workers 2 --clients 4
    DATABASE_URL=sqlite:///path/to/seeded.sqlite .venv/bin/python bench/load.py --count 0
    .venv/bin/python bench/load.py --duration 120 --alternate 10   # 6 phases of each
"""

import argparse
import http.client
import json
import math
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from array import array
from collections import Counter, defaultdict
from pathlib import Path

from common import BIN, GUNICORN_CONFIG, ROOT, free_port, wait_until_up
from sqlalchemy import create_engine, text

PLATFORMS = ("tiktok", "instagram", "x")
# The mix, as weights out of 100: 80 reads, 20 writes.
MIX = {
    "list": 20,
    "list, filtered": 15,
    "profile": 20,
    "vector": 8,
    "similar": 10,
    "videos": 5,
    "map": 2,
    "connect new": 8,
    "re-sync": 7,
    "delete own": 5,
}
WRITES = ("connect new", "re-sync", "delete own")
# Re-syncs go to a small set of seeded accounts so that clients race on the same rows.
HOT_ACCOUNTS = 40
INTERESTS = ("Music", "Gaming", "Technology", "Food", "Sports", "Travel", "Comedy", "Fitness")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10, help="unmeasured seconds first")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--clients", type=int, default=8, help="client processes")
    parser.add_argument(
        "--count", type=int, default=5000, help="accounts to seed (0: DATABASE_URL as it is)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=10, help="seconds per request")
    parser.add_argument(
        "--skip", action="append", default=[], choices=sorted(MIX), help="leave a kind out"
    )
    parser.add_argument(
        "--probes", type=int, default=24, help="freshness answers asked after each probe write"
    )
    parser.add_argument(
        "--alternate",
        type=float,
        default=0,
        metavar="SECONDS",
        help="alternate phases of this length with and without the writes (see below)",
    )
    args = parser.parse_args()
    args.mix = {kind: weight for kind, weight in MIX.items() if kind not in args.skip}
    args.reads = {kind: weight for kind, weight in args.mix.items() if kind not in WRITES}
    if args.alternate:
        if args.alternate < 0 or len(args.reads) == len(args.mix):
            parser.error("--alternate needs a positive length and a mix with writes")
        phases = args.duration / args.alternate
        if phases < 2 or phases % 2:
            parser.error("--duration must be an even number (2 or more) of --alternate phases")
    return args


# --- setting up ----------------------------------------------------------------------------


def fresh_sqlite(count: int) -> str:
    """A new, empty SQLite database file under bench/results/; its URL."""
    database = ROOT / "bench" / "results" / f"load-{count}.sqlite"
    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{database}"


def toker(env: dict, *args: str) -> str:
    """Run a toker command; its standard output."""
    result = subprocess.run(
        [BIN / "toker", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"toker {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare(args, env: dict) -> str:
    """Migrate, seed, and make an admin with an API token; returns the token."""
    toker(env, "db", "upgrade")
    if args.count:
        started = time.monotonic()
        print(f"seeding {args.count:,} accounts ...", file=sys.stderr)
        print(toker(env, "seed", "--count", str(args.count), "--seed", str(args.seed)).strip())
        print(f"seeded in {time.monotonic() - started:.1f} s", file=sys.stderr)
    name = f"load-{secrets.token_hex(3)}"
    toker(
        dict(env, TOKER_PASSWORD=secrets.token_urlsafe(18)),
        "users",
        "create",
        name,
        "--role",
        "admin",
    )
    return toker(env, "tokens", "create", name).strip().splitlines()[-1]


def snapshot(engine) -> dict:
    """The accounts stored now: {(platform, user_id): (id, version)}."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT platform, user_id, id, version FROM profiles"))
        return {(platform, user_id): (pk, version) for platform, user_id, pk, version in rows}


class Gunicorn:
    """gunicorn serving wsgi:app, as scripts/serve starts it; stops only the process it started."""

    def __init__(self, env: dict, workers: int, threads: int, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [
                    BIN / "gunicorn",
                    *GUNICORN_CONFIG,
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # graceful: in-flight requests finish
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the clients ---------------------------------------------------------------------------


class Client:
    """One keep-alive connection (reopened when the server closes it) with a bearer token."""

    def __init__(self, port: int, token: str, timeout: float):
        self.port, self.timeout = port, timeout
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.connection = None

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, self.timeout)
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.connection.request(method, path, body=data, headers=self.headers)
            response = self.connection.getresponse()
            payload = response.read()
        except BaseException:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, payload

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def client_main(index: int, setup: dict, results) -> None:
    """Run one client; a failure of the client itself is reported, not lost."""
    try:
        results.put(run_client(index, setup))
    except BaseException:
        results.put({"error": f"client {index}:\n{traceback.format_exc()}"})


def writing_at(setup: dict, moment: float) -> bool:
    """Whether the mix has its writes at this moment: always, except in every second phase
    of the measured window with --alternate."""
    alternate = setup["alternate"]
    if not alternate or moment < setup["measure_from"]:
        return True
    return int((moment - setup["measure_from"]) // alternate) % 2 == 0


# With --alternate, what the phases without writes ask is counted under these names.
WITHOUT = " (no writes)"


def run_client(index: int, setup: dict) -> dict:
    """Send the mix until the deadline; report counts, latencies and acknowledged writes."""
    rng = random.Random(f"{setup['seed']}:{index}")
    client = Client(setup["port"], setup["token"], setup["timeout"])
    mixes = {
        writes: tuple(zip(*setup["mix" if writes else "reads"].items(), strict=True))
        for writes in (True, False)
    }
    seeded_ids = setup["seeded_ids"]
    hot = setup["hot"]
    measure_from, stop_at = setup["measure_from"], setup["stop_at"]
    latencies = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    errors: dict[str, Counter] = defaultdict(Counter)
    created: dict[tuple[str, str], int] = {}  # mine, live: account -> profile id
    deleted: list[tuple[str, str]] = []
    resynced: Counter = Counter()  # acknowledged re-syncs per account
    uncertain: Counter = Counter()  # writes whose answer never came, per kind
    rejected = 0
    serial = 0
    while (started := time.monotonic()) < stop_at:
        writes = writing_at(setup, started)
        kinds, weights = mixes[writes]
        kind = rng.choices(kinds, weights)[0]
        if kind == "delete own" and not created:
            kind = "connect new" if "connect new" in setup["mix"] else "re-sync"
        method, body, account = "GET", None, None
        if kind == "list":
            path = f"/api/v1/profiles?sort=followers&per_page=50&page={rng.randint(1, 20)}"
        elif kind == "list, filtered":
            interest = f"{rng.choice(INTERESTS)}:{rng.choice(('0.1', '0.2', '0.3'))}"
            path = (
                f"/api/v1/profiles?platform={rng.choice(PLATFORMS)}&interest={interest}"
                f"&sort={rng.choice(('likes', 'updated', 'username'))}&per_page=20"
            )
        elif kind == "profile":
            path = f"/api/v1/profiles/{rng.choice(seeded_ids)}"
        elif kind == "vector":
            path = f"/api/v1/profiles/{rng.choice(seeded_ids)}/vector"
        elif kind == "similar":
            path = f"/api/v1/profiles/{rng.choice(seeded_ids)}/similar?k=10"
        elif kind == "videos":
            path = f"/api/v1/videos?category={rng.choice(INTERESTS)}&per_page=20"
        elif kind == "map":
            path = "/api/v1/map"
        elif kind == "connect new":
            serial += 1
            # 14 digits: no platform's own ids have that length, so never a seeded account.
            account = (rng.choice(PLATFORMS), f"9{setup['run']:05d}{index:02d}{serial:06d}")
            method, path = "POST", "/api/v1/connect"
        elif kind == "re-sync":
            account = rng.choice(hot)
            method, path = "POST", "/api/v1/connect"
        else:  # delete own
            account = rng.choice(sorted(created))
            method, path = "DELETE", f"/api/v1/profiles/{created[account]}"
        if method == "POST":
            body = {"platform": account[0], "user_id": account[1]}
        try:
            status, payload = client.call(method, path, body)
        except TimeoutError:
            errors[kind if writes else kind + WITHOUT]["timeout"] += 1
            if kind in WRITES:
                uncertain[kind] += 1
            continue
        except (OSError, http.client.HTTPException) as error:
            errors[kind if writes else kind + WITHOUT][type(error).__name__] += 1
            if kind in WRITES:
                uncertain[kind] += 1
            continue
        elapsed = time.monotonic() - started
        if started >= measure_from:
            counted = kind if writes else kind + WITHOUT
            latencies[counted].append(elapsed)
            statuses[counted][status] += 1
        if kind == "connect new" and status == 201:
            created[account] = json.loads(payload)["profile"]["id"]
        elif kind == "connect new" and status == 422:
            rejected += 1
        elif kind == "re-sync" and status == 200:
            resynced[account] += 1
        elif kind == "delete own" and status == 204:
            del created[account]
            deleted.append(account)
        elif kind in WRITES and status >= 500:
            uncertain[kind] += 1
    client.close()
    return {
        "latencies": dict(latencies),
        "statuses": {kind: dict(counts) for kind, counts in statuses.items()},
        "errors": {kind: dict(counts) for kind, counts in errors.items()},
        "created": list(created.items()),
        "deleted": deleted,
        "resynced": list(resynced.items()),
        "uncertain": dict(uncertain),
        "rejected": rejected,
        "all_created": len(created) + len(deleted),
    }


def run_clients(args, port: int, token: str, seeded: dict) -> list[dict]:
    """Start the client processes together, wait for their reports."""
    seeded_ids = sorted(pk for pk, _version in seeded.values())
    rng = random.Random(args.seed)
    hot = rng.sample(sorted(seeded), min(HOT_ACCOUNTS, len(seeded)))
    now = time.monotonic()
    setup = {
        "port": port,
        "token": token,
        "timeout": args.timeout,
        "seed": args.seed,
        "run": secrets.randbelow(100_000),
        "seeded_ids": seeded_ids,
        "hot": hot,
        "mix": args.mix,
        "reads": args.reads,
        "alternate": args.alternate,
        "probes": args.probes,
        # CLOCK_MONOTONIC is one clock for every process on the machine.
        "measure_from": now + 2 + args.warmup,
        "stop_at": now + 2 + args.warmup + args.duration,
    }
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=client_main, args=(i, setup, results)) for i in range(args.clients)
    ]
    # The probe runs in the read-only run too, asking the same reads without its writes, so
    # that the two runs carry the same uncounted traffic besides the mix.
    probe = probe_main if any(kind in WRITES for kind in args.mix) else read_probe_main
    processes.append(context.Process(target=probe, args=(setup, results)))
    for process in processes:
        process.start()
    reports = []
    deadline = setup["stop_at"] + args.timeout + 30
    while len(reports) < len(processes):
        try:
            reports.append(results.get(timeout=max(1, deadline - time.monotonic())))
        except Exception:
            raise SystemExit("a client process gave no report") from None
    for process in processes:
        process.join()
    failures = [report["error"] for report in reports if "error" in report]
    if failures:
        raise SystemExit("\n".join(failures))
    return reports


# --- freshness under the load ----------------------------------------------------------------

# A write must show in every worker's answers within this long after its acknowledgement.
FRESH_WITHIN = 1.0


def probe_main(setup: dict, results) -> None:
    try:
        results.put(run_probe(setup))
    except BaseException:
        results.put({"error": f"freshness probe:\n{traceback.format_exc()}"})


def _nearest_ids(setup: dict, mix: dict) -> tuple[list[int], float]:
    """The ids /api/v1/profiles/nearest answers for this mix, over a new connection, and when.

    Accounts with few interests can share their exact mix with more than ten others; the
    probe only uses accounts with three or more interests, whose mix is all but unique."""
    query = urllib.parse.urlencode(
        [("mix", f"{category}:{weight!r}") for category, weight in mix.items() if weight]
    )
    client = Client(setup["port"], setup["token"], setup["timeout"])
    try:
        status, payload = client.call("GET", f"/api/v1/profiles/nearest?{query}&k=10")
    finally:
        client.close()
    answered = time.monotonic()
    if status != 200:
        raise RuntimeError(f"nearest answered {status}: {payload[:200]!r}")
    return [item["id"] for item in json.loads(payload)["items"]], answered


def run_probe(setup: dict) -> dict:
    """Connect, check every answer lists the new profile; delete, check none does; repeat."""
    writer = Client(setup["port"], setup["token"], setup["timeout"])
    serial = 0
    # (write, stale answers, seconds until fresh, seconds until the first answer)
    events: list[tuple[str, int, float, float]] = []
    answers = 0
    deleted: list[tuple[str, str]] = []
    created: dict[tuple[str, str], int] = {}
    while time.monotonic() < setup["measure_from"]:
        time.sleep(0.05)
    failure, uncertain, doing = None, {}, None
    rng = random.Random(f"{setup['seed']}:probe")
    reads = [0, 0]  # with --alternate, the read probe's (answers, misses) between the writes
    try:
        while time.monotonic() < setup["stop_at"] - 2:
            if not writing_at(setup, time.monotonic()):
                # The writer's connection would sit idle past the keep-alive: closed now,
                # it is opened again for the next write.
                writer.close()
                asked, missed = _read_probe_once(setup, rng)
                reads[0] += asked
                reads[1] += missed
                continue
            serial += 1
            account = (PLATFORMS[serial % 3], f"8{setup['run']:05d}99{serial:06d}")
            doing = "a connect"
            status, payload = writer.call(
                "POST", "/api/v1/connect", {"platform": account[0], "user_id": account[1]}
            )
            doing = None
            if status == 422:  # under the likes minimum: nothing stored, try another account
                continue
            if status != 201:
                raise RuntimeError(f"connect answered {status}: {payload[:200]!r}")
            acknowledged = time.monotonic()
            profile = json.loads(payload)["profile"]
            created[account] = profile["id"]
            if sum(weight > 0 for weight in profile["interest"].values()) < 3:
                doing = "a delete"
                status, payload = writer.call("DELETE", f"/api/v1/profiles/{profile['id']}")
                doing = None
                if status != 204:
                    raise RuntimeError(f"delete answered {status}: {payload[:200]!r}")
                del created[account]
                deleted.append(account)
                continue
            for write, expect_listed in (("create", True), ("delete", False)):
                if write == "delete":
                    doing = "a delete"
                    status, payload = writer.call("DELETE", f"/api/v1/profiles/{profile['id']}")
                    doing = None
                    if status != 204:
                        raise RuntimeError(f"delete answered {status}: {payload[:200]!r}")
                    acknowledged = time.monotonic()
                    del created[account]
                    deleted.append(account)
                stale, fresh_after, first = 0, 0.0, None
                for _ in range(setup["probes"]):
                    ids, answered = _nearest_ids(setup, profile["interest"])
                    answers += 1
                    if first is None:
                        first = answered - acknowledged
                    if (profile["id"] in ids) != expect_listed:
                        stale += 1
                        fresh_after = answered - acknowledged
                events.append((write, stale, fresh_after, first))
            time.sleep(1)
    except (OSError, http.client.HTTPException) as error:  # timeouts included
        failure = f"{type(error).__name__} during {doing or 'a /profiles/nearest answer'}"
        if doing:  # a write without an answer: the store check cannot count it
            uncertain["freshness probe"] = 1
    writer.close()
    return {
        "latencies": {},
        "statuses": {},
        "errors": {},
        "created": list(created.items()),
        "deleted": deleted,
        "resynced": [],
        "uncertain": uncertain,
        "rejected": 0,
        "all_created": len(created) + len(deleted),
        "freshness": {"events": events, "answers": answers, "failure": failure},
        "read_probe": tuple(reads),
    }


def read_probe_main(setup: dict, results) -> None:
    try:
        results.put(run_read_probe(setup))
    except BaseException:
        results.put({"error": f"read probe:\n{traceback.format_exc()}"})


def _read_probe_once(setup: dict, rng: random.Random) -> tuple[int, int]:
    """One round of the probe's reads: (answers, answers that missed the profile)."""
    profile_id = rng.choice(setup["seeded_ids"])
    # A new connection each time: the pause between two would outlast the keep-alive.
    reader = Client(setup["port"], setup["token"], setup["timeout"])
    try:
        status, payload = reader.call("GET", f"/api/v1/profiles/{profile_id}")
    finally:
        reader.close()
    if status != 200:
        raise RuntimeError(f"profile {profile_id} answered {status}: {payload[:200]!r}")
    interest = json.loads(payload)["interest"]
    if sum(weight > 0 for weight in interest.values()) < 3:
        return 0, 0
    answers = missing = 0
    for _ in range(2 * setup["probes"]):
        ids, _answered = _nearest_ids(setup, interest)
        answers += 1
        missing += profile_id not in ids
    time.sleep(1)
    return answers, missing


def run_read_probe(setup: dict) -> dict:
    """The probe's reads without its writes, at its pace, for the read-only run: a seeded
    profile's interest mix asked of /profiles/nearest over --probes new connections, twice (as
    after the probe's create and after its delete), then a second's pause. Every answer must
    list the profile, as the probe's answers after a create must; the misses are counted."""
    rng = random.Random(f"{setup['seed']}:probe")
    answers, missing = 0, 0
    while time.monotonic() < setup["measure_from"]:
        time.sleep(0.05)
    while time.monotonic() < setup["stop_at"] - 2:
        asked, missed = _read_probe_once(setup, rng)
        answers += asked
        missing += missed
    return {
        "latencies": {},
        "statuses": {},
        "errors": {},
        "created": [],
        "deleted": [],
        "resynced": [],
        "uncertain": {},
        "rejected": 0,
        "all_created": 0,
        "read_probe": (answers, missing),
    }


def report_freshness(reports: list[dict]) -> bool:
    """Print what the probe saw; False when a write took longer than FRESH_WITHIN to show."""
    found = [report["freshness"] for report in reports if "freshness" in report]
    if not found:
        reads, missing = next(r["read_probe"] for r in reports if "read_probe" in r)
        print(
            f"No writes, no freshness to measure: the probe asked its {reads:,} reads of "
            f"/profiles/nearest (over new connections) without its writes; {missing} answers "
            "did not list the profile whose mix they were asked for.\n"
        )
        return True
    events, answers, failure = found[0]["events"], found[0]["answers"], found[0]["failure"]
    stale = sum(event[1] for event in events)
    slowest = max((event[2] for event in events), default=0.0)
    firsts = sorted(event[3] for event in events)
    print(
        f"Freshness under the load: {len(events)} probe writes ("
        f"{sum(event[0] == 'create' for event in events)} creates, "
        f"{sum(event[0] == 'delete' for event in events)} deletes), {answers:,} answers "
        f"of /profiles/nearest asked after the acknowledgements (the first after a median "
        f"{_percentile(firsts, 0.5) * 1000:.0f} ms), {stale} stale; the last stale answer came "
        f"{slowest * 1000:.0f} ms after its write's acknowledgement "
        f"(target <= {FRESH_WITHIN * 1000:.0f} ms)"
        + (f"; the probe stopped on {failure}" if failure else "")
        + "\n"
    )
    return bool(events) and slowest <= FRESH_WITHIN and failure is None


# --- checking and reporting ----------------------------------------------------------------


def check_store(engine, before: dict, reports: list[dict]) -> list[tuple[str, object, object]]:
    """(check, expected, found) rows; a row passes when expected == found."""
    from webapp.services.ingestion.taxonomy import CATEGORIES

    created = dict(item for report in reports for item in report["created"])
    created = {tuple(account): pk for account, pk in created.items()}
    deleted = [tuple(account) for report in reports for account in report["deleted"]]
    resynced = Counter()
    for report in reports:
        for account, times in report["resynced"]:
            resynced[tuple(account)] += times
    acknowledged_creates = sum(report["all_created"] for report in reports)
    after = snapshot(engine)
    rows = []
    expected_count = len(before) + acknowledged_creates - len(deleted)
    rows.append(
        (
            f"profiles = {len(before):,} before + {acknowledged_creates:,} created "
            f"- {len(deleted):,} deleted",
            expected_count,
            len(after),
        )
    )
    with engine.connect() as connection:

        def scalar(sql: str) -> int:
            return connection.execute(text(sql)).scalar_one()

        rows.append(
            (
                "duplicate accounts",
                0,
                scalar(
                    "SELECT count(*) FROM (SELECT platform, user_id FROM profiles "
                    "GROUP BY platform, user_id HAVING count(*) > 1) AS d"
                ),
            )
        )
        rows.append(
            (
                "profiles without a whole vector",
                0,
                scalar(
                    "SELECT count(*) FROM profiles WHERE vector IS NULL "
                    f"OR length(vector) != {len(CATEGORIES) * 8}"
                ),
            )
        )
        rows.append(
            (
                "links to a missing profile or video",
                0,
                scalar(
                    "SELECT count(*) FROM profile_videos pv "
                    "LEFT JOIN profiles p ON p.id = pv.profile_id "
                    "LEFT JOIN videos v ON v.id = pv.video_pk "
                    "WHERE p.id IS NULL OR v.id IS NULL"
                ),
            )
        )
        rows.append(
            (
                "profiles whose link counts differ from liked/shared counts",
                0,
                scalar(
                    "SELECT count(*) FROM profiles p LEFT JOIN (SELECT profile_id, "
                    "sum(CASE WHEN kind = 0 THEN 1 ELSE 0 END) AS liked, "
                    "sum(CASE WHEN kind = 1 THEN 1 ELSE 0 END) AS shared "
                    "FROM profile_videos GROUP BY profile_id) c ON c.profile_id = p.id "
                    "WHERE coalesce(c.liked, 0) != p.liked_count "
                    "OR coalesce(c.shared, 0) != p.shared_count"
                ),
            )
        )
        weights = defaultdict(dict)
        for pk, category_id, weight in connection.execute(
            text("SELECT profile_id, category_id, weight FROM profile_interests")
        ):
            weights[pk][CATEGORIES[category_id]] = weight
        disagree = 0
        for pk, blob in connection.execute(text("SELECT id, vector FROM profiles")):
            if blob is None:
                continue
            vector = array("d")
            vector.frombytes(bytes(blob))
            expected = {name: w for name, w in zip(CATEGORIES, vector, strict=False) if w}
            disagree += weights.pop(pk, {}) != expected
        rows.append(("profiles whose weight rows disagree with the vector", 0, disagree))
        rows.append(("weight rows of a missing profile", 0, len(weights)))

    rows.append(
        (
            "acknowledged creates stored as that profile",
            len(created),
            sum(after.get(account, (None,))[0] == pk for account, pk in created.items()),
        )
    )
    rows.append(("acknowledged deletes still stored", 0, sum(a in after for a in deleted)))
    lost = sum(
        after[account][1] != before[account][1] + times
        for account, times in resynced.items()
        if account in after
    )
    rows.append(
        (
            f"re-synced accounts whose version != before + re-syncs ({sum(resynced.values()):,} "
            f"re-syncs of {len(resynced)} accounts)",
            0,
            lost,
        )
    )
    return rows


def worker_memory(master_pid: int) -> list[tuple[float, float]]:
    """(RSS, unique set size) in MiB of each gunicorn worker, after the load."""
    import psutil

    found = []
    for worker in psutil.Process(master_pid).children():
        info = worker.memory_full_info()
        found.append((info.rss / 2**20, info.uss / 2**20))
    return sorted(found)


def report_table(args, reports: list[dict]) -> tuple[int, int]:
    """Print the per-kind table (with --alternate, one for the phases with writes, one for
    those without, and the share the first kept of the second's rate); return (5xx answers,
    connection errors and timeouts)."""
    latencies, statuses, errors = defaultdict(list), defaultdict(Counter), defaultdict(Counter)
    for report in reports:
        for kind, values in report["latencies"].items():
            latencies[kind].extend(values)
        for kind, counts in report["statuses"].items():
            statuses[kind].update({int(code): n for code, n in counts.items()})
        for kind, counts in report["errors"].items():
            errors[kind].update(counts)
    groups = [("", list(args.mix), args.duration)]
    if args.alternate:
        half = args.duration / 2
        groups = [
            (f"The {half:g} s of phases with writes", list(args.mix), half),
            (f"The {half:g} s of phases without", [kind + WITHOUT for kind in args.reads], half),
        ]
    total_5xx = total_errors = 0
    rates = []
    for title, kinds, duration in groups:
        if title:
            print(f"{title}:\n")
        print(
            "| kind | requests | req/s | p50 ms | p95 ms | p99 ms | 2xx | 4xx | 5xx "
            "| conn. errors / timeouts | status codes |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        everything, codes_all, failed_all = [], Counter(), Counter()
        for kind in [*kinds, "all"]:
            if kind == "all":
                values, codes, failed = sorted(everything), codes_all, failed_all
            else:
                values = sorted(latencies[kind])
                everything.extend(values)
                codes, failed = statuses[kind], errors[kind]
                codes_all.update(codes)
                failed_all.update(failed)
            by_class = Counter(code // 100 for code in codes.elements())
            if kind != "all":
                total_5xx += by_class[5]
                total_errors += sum(failed.values())
            name = f"**{kind}**" if kind == "all" else kind
            code_text = ", ".join(f"{code}: {n:,}" for code, n in sorted(codes.items()))
            print(
                f"| {name} | {len(values):,} | {len(values) / duration:,.1f} "
                f"| {_percentile(values, 0.50) * 1000:.1f} "
                f"| {_percentile(values, 0.95) * 1000:.1f} "
                f"| {_percentile(values, 0.99) * 1000:.1f} | {by_class[2]:,} | {by_class[4]:,} "
                f"| {by_class[5]:,} | {sum(failed.values()):,} | {code_text} |"
            )
        rates.append(len(everything) / duration)
        print()
    if args.alternate:
        print(
            f"With writes {rates[0]:,.1f} req/s, without {rates[1]:,.1f}: the mix keeps "
            f"{100 * rates[0] / rates[1]:.0f} % of the same reads' rate, phase by phase of "
            f"{args.alternate:g} s in one run.\n"
        )
    return total_5xx, total_errors


def main() -> int:
    args = parse_args()
    url = os.environ.get("DATABASE_URL") or fresh_sqlite(args.count)
    instance = Path(tempfile.mkdtemp(prefix="toker-load-"))
    env = dict(
        os.environ,
        DATABASE_URL=url,
        TOKER_ENV="development",
        SECRET_KEY=secrets.token_hex(32),
        TOKER_INSTANCE_PATH=str(instance),
        TOKER_ASSETS="local",
        OPENBLAS_NUM_THREADS="1",
    )
    try:
        token = prepare(args, env)
        engine = create_engine(url)
        before = snapshot(engine)
        server = Gunicorn(env, args.workers, args.threads, instance / "gunicorn.log")
        try:
            wait_until_up(f"{server.url}/healthz")
            print(
                f"load: {args.clients} clients, {args.duration:g} s (+{args.warmup:g} s warm-up), "
                f"gunicorn {args.workers} workers x {args.threads} threads, "
                f"{len(before):,} profiles, "
                f"{os.cpu_count()} cores",
                file=sys.stderr,
            )
            try:
                reports = run_clients(args, server.port, token, before)
            except SystemExit:
                server.stop()
                print(f"gunicorn's log:\n{server.log.read_text()[-8000:]}", file=sys.stderr)
                raise
            memory = worker_memory(server.process.pid)
        finally:
            server.stop()
        log = server.log.read_text()
        print(
            f"\n{len(before):,} profiles seeded ({url.split(':')[0]}); gunicorn {args.workers} "
            f"gthread workers x {args.threads} threads; {args.clients} client processes for "
            f"{args.duration:g} s after "
            f"{args.warmup:g} s of warm-up; {os.cpu_count()} cores\n"
        )
        total_5xx, total_errors = report_table(args, reports)
        created = sum(report["all_created"] for report in reports)
        deleted = sum(len(report["deleted"]) for report in reports)
        resyncs = sum(times for report in reports for _a, times in report["resynced"])
        rejected = sum(report["rejected"] for report in reports)
        uncertain = sum(sum(report["uncertain"].values()) for report in reports)
        print(
            f"\nAcknowledged writes (warm-up included): {created:,} created (201), "
            f"{resyncs:,} re-synced (200), {deleted:,} deleted (204), {rejected:,} rejected "
            f"(422, under the likes minimum); {uncertain} writes without an answer.\n"
        )
        print(
            "Worker memory after the load, MiB (RSS / unique): "
            + ", ".join(f"{rss:.0f} / {uss:.0f}" for rss, uss in memory)
            + "\n"
        )
        fresh = report_freshness(reports)
        rows = check_store(engine, before, reports)
        engine.dispose()
        print("| consistency check | expected | found | |")
        print("|---|---:|---:|---|")
        mismatches = 0
        for check, expected, found in rows:
            ok = expected == found
            mismatches += not ok
            print(f"| {check} | {expected:,} | {found:,} | {'ok' if ok else 'MISMATCH'} |")
        tracebacks = log.count("Traceback")
        if tracebacks:
            print(f"\ngunicorn logged {tracebacks} tracebacks:\n{log[-4000:]}")
        failed = total_5xx or total_errors or uncertain or mismatches or tracebacks or not fresh
        print(
            f"\n{'FAIL' if failed else 'PASS'}: {total_5xx} 5xx, {total_errors} connection "
            f"errors or timeouts, {mismatches} mismatches"
            + ("" if fresh else ", a write took over 1 s to show in every answer")
        )
        return 1 if failed else 0
    finally:
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
