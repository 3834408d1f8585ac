"""gunicorn settings for Toker: threaded workers, with sizes and timeouts from the environment.

    gunicorn -c gunicorn.conf.py wsgi:app        # what scripts/serve and the benchmarks run

Flags on the command line still win over this file (`--workers 4`).
"""

import ctypes
import os
import threading

M_ARENA_MAX = -8  # glibc's mallopt parameters
M_MMAP_THRESHOLD = -3
# Blocks of 1 MiB and more (NumPy's temporaries: a map answer, a build) get their own mapping,
# returned to the system when freed. Left to itself, glibc raises this threshold to the largest
# block freed so far (32 MiB at most), and later temporaries of that size stay in the heap.
MMAP_THRESHOLD = 1024 * 1024


def _number(name: str, default, kind=int):
    """A positive number from the environment, or a clear error naming the variable."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise SystemExit(f"{name}={text!r}: must be a number") from None
    if value <= 0:
        raise SystemExit(f"{name}={text!r}: must be more than 0")
    return value


# Threads, not one request per process: a slow or half-open client holds one thread, never a
# whole worker, and the threads of a worker share its in-memory state (the live matrix).
worker_class = "gthread"
workers = _number("TOKER_WORKERS", 2)
threads = _number("TOKER_THREADS", 8)
bind = f"{os.environ.get('TOKER_HOST', '127.0.0.1')}:{_number('TOKER_PORT', 5000)}"
# A worker that does not report for this long is restarted; no request takes seconds.
timeout = _number("TOKER_TIMEOUT", 30)
graceful_timeout = _number("TOKER_GRACEFUL_TIMEOUT", 20)
# Idle keep-alive connections are closed after this many seconds.
keepalive = _number("TOKER_KEEPALIVE", 5)
accesslog = "-" if os.environ.get("TOKER_ACCESS_LOG", "") not in ("", "0", "false") else None
errorlog = "-"

# NumPy's default of two BLAS threads makes small vector queries jump from 0.6 to 8 ms on two
# cores; the workers set it before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def post_fork(server, worker):
    """Keep a worker's threads to two malloc arenas: with one arena per thread, glibc holds
    freed memory in each of them and a worker's resident memory grows with its threads. And a
    fixed mmap threshold, so large temporaries go back to the system when freed."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    libc.mallopt(M_ARENA_MAX, 2)
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def post_worker_init(worker):
    """Build the worker's live state (the matrix every look-alike, total and map reads) at
    start, in the background: the first requests do not pay for it, and the ones that need it
    meanwhile wait for it rather than building their own."""
    from webapp import warm_up

    threading.Thread(target=warm_up, args=(worker.wsgi,), name="warm-up", daemon=True).start()
