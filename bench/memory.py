"""Worker memory after every page kind has been served: RSS, USS and PSS, and the largest mappings.

    .venv/bin/python bench/memory.py --db path/to/seeded.sqlite
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/memory.py

Starts gunicorn from gunicorn.conf.py (TOKER_WORKERS=2) on the database, waits until both
workers have finished their warm-up (the live matrix is built in a thread at worker start),
then asks for every page kind (lists, a filtered list, a search, profiles, look-alikes, the mix
page, the map and its data, videos, the overview, and the JSON API's equivalents) until each
worker has served each kind --repeat times, as gunicorn's access log (with the worker's pid)
shows. Prints each worker's memory after warm-up and after the requests (psutil's
memory_full_info), and the mappings that hold most of it (/proc/PID/smaps).
"""

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH_USER,
    BIN,
    GUNICORN_CONFIG,
    ROOT,
    bearer,
    bench_password,
    free_port,
    sign_in,
    toker_command,
    toker_environment,
    wait_until_up,
)

MIB = 1024 * 1024
# The access log line: worker pid, then the request line.
LOG_FORMAT = "%(p)s %(s)s %(r)s"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a SQLite file (else DATABASE_URL)")
    parser.add_argument("--repeat", type=int, default=3, help="requests per kind per worker")
    parser.add_argument("--mappings", type=int, default=6, help="largest mappings shown")
    return parser.parse_args()


def settle(workers: list[psutil.Process], quiet: float = 0.05, polls: int = 4) -> float:
    """Wait until no worker used more than `quiet` s of CPU in `polls` half-second polls in a
    row (the warm-up build has ended); the seconds waited."""
    started = time.monotonic()
    last = [sum(w.cpu_times()[:2]) for w in workers]
    calm = 0
    while calm < polls:
        time.sleep(0.5)
        now = [sum(w.cpu_times()[:2]) for w in workers]
        calm = calm + 1 if max(b - a for a, b in zip(last, now, strict=True)) < quiet else 0
        last = now
        if time.monotonic() - started > 600:
            raise SystemExit("the workers did not settle within 600 s")
    return time.monotonic() - started


def page_kinds(base: str, ids: list[int]) -> list[tuple[str, list[str], str]]:
    """(kind, the paths asked in turn, 'page' or 'api')."""
    one = [f"/profiles/{pk}" for pk in ids]
    return [
        ("overview", ["/"], "page"),
        ("list", ["/profiles", "/profiles?page=3", "/profiles?sort=followers"], "page"),
        (
            "list, filtered",
            [
                "/profiles?platform=tiktok&interest_category=Music&interest_min=20",
                "/profiles?platform=x&interest_category=Gaming&interest_min=10",
            ],
            "page",
        ),
        ("list, search", ["/profiles?q=ann", "/profiles?q=lee&platform=instagram"], "page"),
        ("profile", one, "page"),
        ("look-alikes", [f"{p}/similar" for p in one], "page"),
        ("recommended", [f"{p}/recommended" for p in one], "page"),
        ("mix", ["/profiles/like?w:Music=60&w:Dance=40", f"/profiles/like?from={ids[0]}"], "page"),
        ("map page", ["/map", "/map?color=platform&k=8"], "page"),
        ("videos", ["/videos", "/videos?q=dance", "/videos?category=Music&sort=likes"], "page"),
        ("api list", ["/api/v1/profiles", "/api/v1/profiles?platform=x&interest=Music:0.2"], "api"),
        ("api search", ["/api/v1/profiles?q=ann"], "api"),
        ("api profile", [f"/api/v1{p}" for p in one] + [f"/api/v1{p}/vector" for p in one], "api"),
        ("api similar", [f"/api/v1{p}/similar?k=20" for p in one], "api"),
        ("api recommendations", [f"/api/v1{p}/recommendations" for p in one], "api"),
        ("api nearest", ["/api/v1/profiles/nearest?mix=Music:0.6&mix=Dance:0.4"], "api"),
        ("map data", ["/api/v1/map", "/api/v1/map?k=8"], "api"),
        ("api videos", ["/api/v1/videos?q=dance", "/api/v1/videos?platform=tiktok"], "api"),
    ]


def get(url: str, headers: dict) -> None:
    """GET url; anything but 200 ends the run. A first answer may build a whole catalogue on a
    busy machine: a minute, not common.fetch's 10 s."""
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as answer:
        if answer.status != 200:
            raise SystemExit(f"{url} answered {answer.status}")
        answer.read()


def served(log: Path) -> dict[tuple[int, str], int]:
    """(worker pid, path) -> 200 answers, from the access log so far."""
    counts: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        match = re.match(r"<?(\d+)>? (\d{3}) GET (\S+) HTTP", line)
        if match and match.group(2) == "200":
            counts[(int(match.group(1)), match.group(3))] += 1
    return counts


def serve_every_kind(base, kinds, headers, pids, log: Path, repeat: int) -> dict:
    """Ask each kind's paths until every worker answered each of them `repeat` times."""
    rounds: dict[str, int] = defaultdict(int)
    with ThreadPoolExecutor(4) as pool:
        for kind, paths, audience in kinds:
            for _ in range(200):
                counts = served(log)
                short = [p for p in paths if min(counts[(pid, p)] for pid in pids) < repeat]
                if not short:
                    break
                # Four at once on fresh connections: the kernel hands them to both workers.
                urls = [base + p for p in short * 4]
                list(pool.map(get, urls, [headers[audience]] * len(urls)))
                rounds[kind] += 1
                time.sleep(0.3)  # the access log is written after the answer
            else:
                raise SystemExit(f"{kind}: some worker never served {short}")
    return rounds


def mappings(pid: int, top: int) -> list[tuple[str, int, int, int]]:
    """The largest mappings by resident size, grouped by name: (name, rss, pss, private) kB."""
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    name = ""
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = head[5] if len(head) > 5 else "[anonymous]"
                if "/" in name:
                    name = ".../" + "/".join(name.split("/")[-2:])
            elif head[0] == "Rss:":
                groups[name][0] += int(head[1])
            elif head[0] == "Pss:":
                groups[name][1] += int(head[1])
            elif head[0] in ("Private_Clean:", "Private_Dirty:"):
                groups[name][2] += int(head[1])
    ranked = sorted(groups.items(), key=lambda item: -item[1][0])[:top]
    return [(name, *sizes) for name, sizes in ranked]


def rollup(pid: int) -> dict[str, int]:
    """/proc/PID/smaps_rollup in kB."""
    found = {}
    with open(f"/proc/{pid}/smaps_rollup") as text:
        for line in text:
            head = line.split()
            if len(head) == 3 and head[2] == "kB":
                found[head[0].rstrip(":")] = int(head[1])
    return found


def memory_rows(workers: list[psutil.Process]) -> list[tuple[int, float, float, float]]:
    rows = []
    for worker in workers:
        info = worker.memory_full_info()
        rows.append((worker.pid, info.rss / MIB, info.uss / MIB, info.pss / MIB))
    return rows


def print_memory(title: str, rows) -> None:
    print(f"\n{title}\n")
    print("| worker | RSS MiB | USS MiB | PSS MiB |")
    print("|---|---:|---:|---:|")
    for pid, rss, uss, pss in rows:
        print(f"| {pid} | {rss:,.1f} | {uss:,.1f} | {pss:,.1f} |")


def main() -> int:
    args = parse_args()
    url = f"sqlite:///{args.db}" if args.db else os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("give --db or DATABASE_URL")
    extra = {"DATABASE_URL": url, "TOKER_WORKERS": "2", "TOKER_ACCESS_LOG": "1"}
    env = toker_environment(Path(args.db or "unused"), extra)
    upgraded = toker_command(env, "db", "upgrade")
    if upgraded.returncode != 0:
        raise SystemExit(f"toker db upgrade failed:\n{upgraded.stdout}{upgraded.stderr}")
    token = _api_token(env)
    ids = _some_ids(env)
    port = free_port()
    log = ROOT / "bench" / "results" / f"memory-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        server = subprocess.Popen(
            [
                BIN / "gunicorn",
                *GUNICORN_CONFIG,
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logformat",
                LOG_FORMAT,
                "--error-logfile",
                str(log.with_suffix(".err")),
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz", 60)
        master = psutil.Process(server.pid)
        while len(master.children()) < 2:
            time.sleep(0.2)
        workers = sorted(master.children(), key=lambda w: w.pid)
        waited = settle(workers)
        print(f"{url.split('://')[0]}: {len(ids)} sample profiles; warm-up over in {waited:.1f} s")
        after_warm_up = memory_rows(workers)
        headers = {"page": sign_in(base), "api": bearer(token)}
        rounds = serve_every_kind(
            base, page_kinds(base, ids), headers, [w.pid for w in workers], log, args.repeat
        )
        settle(workers)
        after = memory_rows(workers)
        counts = served(log)
        per_worker = Counter()
        for (pid, _path), n in counts.items():
            per_worker[pid] += n
        print(
            "requests answered 200 per worker: "
            + ", ".join(f"{pid}: {n}" for pid, n in sorted(per_worker.items()))
            + f"; rounds per kind: {dict(rounds)}"
        )
        print_memory("After warm-up (before any request)", after_warm_up)
        print_memory("After every page kind, each served by each worker", after)
        master_info = master.memory_full_info()
        print(f"\nmaster {master.pid}: RSS {master_info.rss / MIB:.1f} MiB")
        for worker in workers:
            totals = rollup(worker.pid)
            print(
                f"\nworker {worker.pid}: anonymous {totals.get('Anonymous', 0) / 1024:.1f} MiB, "
                f"shared clean {totals.get('Shared_Clean', 0) / 1024:.1f} MiB, "
                f"private clean {totals.get('Private_Clean', 0) / 1024:.1f} MiB, "
                f"private dirty {totals.get('Private_Dirty', 0) / 1024:.1f} MiB"
            )
            print("| mapping | RSS MiB | PSS MiB | private MiB |")
            print("|---|---:|---:|---:|")
            for name, rss, pss, private in mappings(worker.pid, args.mappings):
                print(f"| {name} | {rss / 1024:.1f} | {pss / 1024:.1f} | {private / 1024:.1f} |")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


def _api_token(env: dict) -> str:
    """A fresh API token of the bench user (an admin, made the first time) on env's database."""
    created = toker_command(
        dict(env, TOKER_PASSWORD=bench_password()), "users", "create", BENCH_USER, "--role", "admin"
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise SystemExit(f"toker users create failed:\n{created.stdout}{created.stderr}")
    result = toker_command(env, "tokens", "create", BENCH_USER, "--label", "bench")
    if result.returncode != 0:
        raise SystemExit(f"toker tokens create failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def _some_ids(env: dict, count: int = 4) -> list[int]:
    """A few profile ids spread over the table."""
    code = (
        "import os, sqlalchemy as sa;"
        "e = sa.create_engine(os.environ['DATABASE_URL']);"
        "c = e.connect();"
        "n = c.execute(sa.text('SELECT count(*) FROM profiles')).scalar();"
        f"print(*[c.execute(sa.text('SELECT id FROM profiles ORDER BY id LIMIT 1 OFFSET :o'),"
        f" {{'o': n * (i + 1) // {count + 1}}}).scalar() for i in range({count})])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return [int(pk) for pk in result.stdout.split()]


if __name__ == "__main__":
    sys.exit(main())
