"""Serving as scripts/serve does: gunicorn from gunicorn.conf.py, threaded workers.

With one request per process (gunicorn's sync workers), a client that sends half a request and
stops holds a whole worker until the timeout: two of them stalled /healthz for 30 s. Threaded
workers keep answering others while such clients hang.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ..factories import build_app

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthz(port: int, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status, time.monotonic() - started
    finally:
        connection.close()


@pytest.fixture
def served(tmp_path):
    """gunicorn with gunicorn.conf.py and 2 workers on a SQLite file of its own; its port."""
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    app = build_app(url)
    with app.app_context():
        from webapp.extensions import db

        for engine in db.engines.values():
            engine.dispose()
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SECRET_KEY="test",
        TOKER_ENV="development",
        TOKER_INSTANCE_PATH=str(tmp_path / "instance"),
        TOKER_ASSETS="local",
        TOKER_WORKERS="2",
        TOKER_THREADS="8",  # the default, whatever the developer's shell says
    )
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                GUNICORN,
                "-c",
                ROOT / "gunicorn.conf.py",
                "--no-control-socket",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            try:
                if _healthz(port, 2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_half_open_and_slow_clients_do_not_stall_other_requests(served):
    port = served
    hanging = []
    stop = threading.Event()
    try:
        # Four clients send half a request and never finish it.
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
            hanging.append(sock)
        # Two more trickle their headers one byte every half second.
        slow = []
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            slow.append(sock)
            hanging.append(sock)

        def trickle():
            while not stop.wait(0.5):
                for sock in slow:
                    try:
                        sock.sendall(b"x")
                    except OSError:
                        return

        threading.Thread(target=trickle, daemon=True).start()
        time.sleep(0.5)  # the server has taken every one of them by now
        for _ in range(5):
            try:
                status, elapsed = _healthz(port, timeout=1.0)
            except TimeoutError:
                pytest.fail("/healthz did not answer within 1 s while slow clients hung")
            assert status == 200
            assert elapsed < 1.0
            time.sleep(0.3)
    finally:
        stop.set()
        for sock in hanging:
            sock.close()


def test_the_config_file_refuses_a_bad_setting(tmp_path):
    result = subprocess.run(
        [GUNICORN, "-c", ROOT / "gunicorn.conf.py", "--check-config", "wsgi:app"],
        cwd=ROOT,
        env=dict(os.environ, TOKER_WORKERS="many", TOKER_INSTANCE_PATH=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "TOKER_WORKERS='many': must be a number" in result.stdout + result.stderr
