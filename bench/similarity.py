"""Look-alike queries at 100,000 profiles: NumPy top-k beside a pure-Python loop, and HTTP.

Service time: `similarity.top_k` (the exact top-10 by cosine over the in-memory matrix) for
1,000 random profiles, beside a pure-Python loop computing the same ranking over the same
vectors for 20 of them, in one run. HTTP: `GET /api/v1/profiles/<id>/similar` under gunicorn
(2 workers), one client at a time (`wrk -t1 -c1`), so the latency is the request's own; the
requests carry an API token of the bench user, and must answer 200 with it before wrk starts.

    .venv/bin/python bench/similarity.py     # uses bench/results/bench-100000.sqlite
"""

import math
import os
import random
import statistics
import time

import numpy as np

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from common import (  # noqa: E402
    api_token,
    arguments,
    bearer,
    fetch,
    prepare_database,
    run_wrk,
    servers,
)

from webapp import create_app  # noqa: E402
from webapp.services.analytics import similarity


def python_top_k(vectors: list[list[float]], ids: list[int], row: int, k: int) -> list[int]:
    """The same ranking with plain Python lists: cosine of unit rows, ties by id."""
    query = vectors[row]
    scored = []
    for index, vector in enumerate(vectors):
        if index == row:
            continue
        score = round(math.fsum(a * b for a, b in zip(query, vector, strict=True)), 12)
        scored.append((-score, ids[index]))
    scored.sort()
    return [pk for _, pk in scored[:k]]


def main() -> None:
    args, database = arguments(__doc__)
    stored, middle_id = prepare_database(database, args.profiles)

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        started = time.perf_counter()
        matrix = similarity.current_matrix()
        build = time.perf_counter() - started
        rng = random.Random(7)
        rows = rng.sample(range(len(matrix.ids)), 1000)
        unit = matrix.unit(np.arange(matrix.n))  # every profile's unit vector, float64
        times = []
        for row in rows:
            started = time.perf_counter()
            similarity.top_k(matrix, unit[row], 10, exclude_row=row)
            times.append(time.perf_counter() - started)
        vectors = unit.tolist()
        ids = matrix.ids.tolist()
        python_times = []
        for row in rows[:20]:
            started = time.perf_counter()
            expected = python_top_k(vectors, ids, row, 10)
            python_times.append(time.perf_counter() - started)
            got = [pk for pk, _ in similarity.top_k(matrix, unit[row], 10, row)]
            assert got == expected, (row, got, expected)

    token = bearer(api_token(database))
    with servers(database) as (toker, _datasette):
        url = f"{toker}/api/v1/profiles/{middle_id}/similar?k=10"
        fetch(url, token)  # 200 with the token, or the run ends here
        run_wrk(url, 2, headers=token)
        http = run_wrk(url, 10, connections=1, headers=token)
    if http["non_2xx"] or http["socket_errors"]:
        raise SystemExit(f"wrk saw {http['non_2xx']} non-2xx answers; {http['socket_errors']}")

    p50 = statistics.median(times) * 1e3
    p99 = sorted(times)[int(len(times) * 0.99)] * 1e3
    python_p50 = statistics.median(python_times) * 1e3
    print(f"{stored:,} profiles x {unit.shape[1]} categories; {os.cpu_count()} cores")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| matrix build (once per data version) | {build * 1e3:,.0f} ms |")
    print(f"| top-10 service time, NumPy, p50 | {p50:.2f} ms |")
    print(f"| top-10 service time, NumPy, p99 | {p99:.2f} ms |")
    print(f"| top-10, pure-Python loop, p50 | {python_p50:,.0f} ms |")
    print(f"| NumPy speed-up | {python_p50 / p50:,.0f}x |")
    print(f"| HTTP, one client, p50 | {http['p50']} |")
    print(f"| HTTP, one client, p99 | {http['p99']} |")
    print(f"| HTTP, one client, req/s | {http['rps']:,.0f} |")


if __name__ == "__main__":
    main()
