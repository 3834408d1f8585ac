"""Concurrent connects, re-syncs and deletes of the same accounts, from several processes.

Worker processes (spawned, each with its own app and connections) and, through HTTP, gunicorn
workers connect, re-sync and delete a small shared set of accounts in a seeded random order and
report every acknowledged result with the monotonic times around it. Afterwards the store must
hold no duplicate, no profile without its vector or with weights that disagree with it, no
orphaned link, and every stored account exactly as a fresh connect gives it. Which accounts are
stored must follow from what was acknowledged: an account was created once more than it was
deleted if it is stored and as often if it is not, and where the acknowledged operations say
which one committed last, the account's presence matches it.

Runs on SQLite, and on PostgreSQL when TOKER_TEST_DATABASE_URL points there.
"""

import http.client
import json
import multiprocessing
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select

from webapp import create_app
from webapp.extensions import db
from webapp.models import LIKED, LINK_KINDS, SHARED, Profile, ProfileInterest, ProfileVideo, Video
from webapp.services.catalogue import profiles, raw_payloads
from webapp.services.ingestion import onboarding
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.taxonomy import CATEGORIES
from webapp.services.ingestion.validation import PayloadRejected
from webapp.services.ingestion.vectors import pack_vector, unpack_vector

from ..factories import app_config, make_token, make_user

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4
OPERATIONS = 25  # per worker process
HTTP_WORKERS = 3  # gunicorn workers
HTTP_CLIENTS = 6  # client threads
HTTP_OPERATIONS = 15  # per client thread
# Two platforms keep the workers' start-up short: each builds the catalogues it uses.
PLATFORMS = ("tiktok", "x")
SHARE_OF_DELETES = 0.4
# No worker or request should come near this; it only keeps a hung run from hanging the suite.
DEADLINE_SECONDS = 120
VECTOR_BYTES = len(CATEGORIES) * 8  # little-endian float64 per category


@lru_cache
def _user_ids(platform: str, accepted: bool, count: int) -> tuple[str, ...]:
    """The first `count` mock user ids whose accounts are (or are not) above the likes minimum."""
    connector = get_connector(platform)
    found = []
    for i in range(10_000):
        if (connector.generate(str(i))["number_of_likes"] >= 100) == accepted:
            found.append(str(i))
            if len(found) == count:
                return tuple(found)
    raise AssertionError("the mock never produced enough such accounts")


def contested_accounts() -> list[tuple[str, str]]:
    """Six accounts that every worker connects, re-syncs and deletes, and one rejected one."""
    accounts = [(platform, uid) for platform in PLATFORMS for uid in _user_ids(platform, True, 3)]
    accounts.append((PLATFORMS[0], _user_ids(PLATFORMS[0], False, 1)[0]))
    return accounts


def resync_only_account() -> tuple[str, str]:
    """An account stored before the workers start and then only re-synced, never deleted."""
    return PLATFORMS[1], _user_ids(PLATFORMS[1], True, 4)[3]


@dataclass
class Op:
    """One acknowledged operation and the monotonic times (ns) around it.

    The write it made, if any, committed between `start` and `end`. A delete also says when the
    profile id it used was learned (`learned`): the id could have changed hands since then.
    """

    who: str
    seq: int
    kind: str  # "connect" or "delete"
    platform: str
    user_id: str
    start: int
    end: int
    # connect: "created", "updated" or "rejected"; delete: "deleted", "gone" (the id was no
    # longer there) or "missing" (no profile to look up); "unknown" when the answer was an error
    status: str
    profile_id: int | None = None
    learned: int | None = None

    @property
    def account(self) -> tuple[str, str]:
        return self.platform, self.user_id

    @property
    def wrote(self) -> bool:
        """Whether the operation changed the store when it committed."""
        return self.status in ("created", "updated", "deleted")


# --- worker processes --------------------------------------------------------------------


def _worker(index, database_url, accounts, resync_only, operations, seed, barrier, results):
    """Connect, re-sync and delete accounts in a seeded order; put each result on `results`."""
    who = f"process-{index}"
    try:
        app = create_app(app_config(database_url))
        with app.app_context():
            for platform in PLATFORMS:  # build catalogues before the race, not during it
                get_connector(platform).warm_up()
            rng = random.Random(f"{seed}:{index}")
            barrier.wait(timeout=DEADLINE_SECONDS)
            for seq in range(operations):
                choice = rng.random()
                if choice < 0.1:
                    platform, user_id = resync_only
                    kind = "connect"
                else:
                    platform, user_id = rng.choice(accounts)
                    kind = "delete" if choice < 0.1 + SHARE_OF_DELETES else "connect"
                start = time.monotonic_ns()
                if kind == "connect":
                    outcome = onboarding.connect_account(platform, user_id)
                    status, profile_id, learned = outcome.status, outcome.profile_id, None
                else:
                    profile_id = db.session.scalar(
                        select(Profile.id).where(
                            Profile.platform == platform, Profile.user_id == user_id
                        )
                    )
                    learned = start
                    if profile_id is None:
                        db.session.rollback()
                        status = "missing"
                    else:
                        status = "deleted" if profiles.delete_profile(profile_id) else "gone"
                end = time.monotonic_ns()
                op = Op(who, seq, kind, platform, user_id, start, end, status, profile_id, learned)
                results.put(("op", op))
        results.put(("done", who))
    except BaseException:
        barrier.abort()  # the others must not wait for this one at the start line
        results.put(("error", f"{who}:\n{traceback.format_exc()}"))


def run_workers(database_url: str, accounts, resync_only, seed: int) -> list[Op]:
    """Run the worker processes to the end; fail with any worker's traceback."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    barrier = context.Barrier(PROCESSES)
    workers = [
        context.Process(
            target=_worker,
            args=(i, database_url, accounts, resync_only, OPERATIONS, seed, barrier, results),
            daemon=True,
        )
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    ops, errors, finished = [], [], 0
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        while finished < PROCESSES:
            try:
                message = results.get(timeout=1)
            except queue.Empty:
                dead = [w for w in workers if w.exitcode not in (None, 0)]
                if dead:
                    errors.append(f"worker exited with {dead[0].exitcode} without a report")
                    break
                if time.monotonic() > deadline:
                    errors.append(f"workers still running after {DEADLINE_SECONDS} s")
                    break
                continue
            if message[0] == "op":
                ops.append(message[1])
            else:
                finished += 1
                if message[0] == "error":
                    errors.append(message[1])
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join()
    assert not errors, "a worker failed:\n" + "\n".join(errors)
    assert len(ops) == PROCESSES * OPERATIONS
    return ops


# --- what the store must look like ------------------------------------------------------


def _jsonish(value):
    """The value as it comes back from a JSON column."""
    return json.loads(json.dumps(value, default=str))


def expected_record(platform: str, user_id: str):
    """What a fresh connect of the account would store, or None if it would be rejected."""
    raw = onboarding.fetch_account(platform, user_id)
    try:
        return onboarding.prepare(platform, raw, onboarding.min_likes())
    except PayloadRejected:
        return None


def check_integrity(accounts: list[tuple[str, str]]) -> dict[tuple[str, str], Profile]:
    """Assert the store's own consistency and that each stored account is exactly as connected.

    Returns the stored profiles by account. Call inside an app context.
    """
    duplicates = db.session.execute(
        select(Profile.platform, Profile.user_id, func.count())
        .group_by(Profile.platform, Profile.user_id)
        .having(func.count() > 1)
    ).all()
    assert duplicates == [], f"duplicate profiles: {duplicates}"
    duplicate_videos = db.session.execute(
        select(Video.platform, Video.video_id, func.count())
        .group_by(Video.platform, Video.video_id)
        .having(func.count() > 1)
    ).all()
    assert duplicate_videos == [], f"duplicate videos: {duplicate_videos}"

    orphan_links = db.session.execute(
        select(ProfileVideo.profile_id, ProfileVideo.video_pk)
        .outerjoin(Profile, Profile.id == ProfileVideo.profile_id)
        .outerjoin(Video, Video.id == ProfileVideo.video_pk)
        .where((Profile.id.is_(None)) | (Video.id.is_(None)))
    ).all()
    assert orphan_links == [], f"links to a missing profile or video: {orphan_links}"
    orphan_weights = db.session.execute(
        select(ProfileInterest.profile_id)
        .outerjoin(Profile, Profile.id == ProfileInterest.profile_id)
        .where(Profile.id.is_(None))
    ).all()
    assert orphan_weights == [], f"interest rows of a missing profile: {orphan_weights}"

    stored = {
        (p.platform, p.user_id): p
        for p in db.session.scalars(select(Profile).order_by(Profile.id)).all()
    }
    unexpected = set(stored) - set(accounts)
    assert not unexpected, f"profiles nobody connected: {unexpected}"
    for account, profile in stored.items():
        _check_profile(account, profile)
    return stored


def _check_profile(account: tuple[str, str], profile: Profile) -> None:
    """One stored profile: its vector, weights, links and fields equal a fresh connect's."""
    where = f"{account} (profile {profile.id})"
    assert profile.vector is not None, f"{where} has no vector"
    assert len(profile.vector) == VECTOR_BYTES, f"{where}: vector of {len(profile.vector)} bytes"
    vector = unpack_vector(profile.vector)
    weights = {
        CATEGORIES[category_id]: weight
        for category_id, weight in db.session.execute(
            select(ProfileInterest.category_id, ProfileInterest.weight).where(
                ProfileInterest.profile_id == profile.id
            )
        ).all()
    }
    in_vector = {name: weight for name, weight in zip(CATEGORIES, vector, strict=True) if weight}
    assert weights == in_vector, f"{where}: interest rows disagree with the vector"

    record = expected_record(*account)
    assert record is not None, f"{where} is stored although its account is rejected"
    assert profile.vector == pack_vector(record.interest), f"{where}: not the account's vector"
    fields = {
        "username": record.username,
        "user_pseudo": record.user_pseudo,
        "verified": record.verified,
        **record.stats,
        "liked_count": record.liked_count,
        "shared_count": record.shared_count,
        "unclassified_count": record.unclassified_count,
        "dominant_interest": record.dominant_interest,
        "top_categories": _jsonish(record.top_categories),
        "top_hashtags": _jsonish(record.top_hashtags),
    }
    stored_fields = {name: getattr(profile, name) for name in fields}
    fields["raw_payload"] = _jsonish(record.raw_payload)
    stored_fields["raw_payload"] = raw_payloads.payload_of(profile.id)
    assert stored_fields == fields, f"{where}: stored fields differ from the account's"

    links = db.session.execute(
        select(
            ProfileVideo.kind,
            ProfileVideo.position,
            Video.video_id,
            Video.categories,
            Video.hashtags,
            Video.likes,
        )
        .join(Video, Video.id == ProfileVideo.video_pk)
        .where(ProfileVideo.profile_id == profile.id)
    ).all()
    expected_links = {
        (
            LINK_KINDS[v.kind],
            v.position,
            v.video_id,
            tuple(v.categories),
            tuple(v.hashtags),
            v.likes,
        )
        for v in record.videos
    }
    stored_links = {
        (kind, position, video_id, tuple(categories), tuple(hashtags), likes)
        for kind, position, video_id, categories, hashtags, likes in links
    }
    assert len(links) == len(stored_links)
    assert stored_links == expected_links, f"{where}: liked and shared videos differ"
    kinds = Counter(kind for kind, *_ in links)
    assert (kinds[LIKED], kinds[SHARED]) == (profile.liked_count, profile.shared_count)


# --- what the acknowledged operations say ------------------------------------------------


def ambiguous_deletes(ops: list[Op]) -> list[tuple[Op, Op]]:
    """Deletes that may have hit another account than the one they meant.

    A delete by id removes whichever profile has that id when it commits. If the database hands
    a deleted profile's id to a new profile, a delete that learned the id before could remove
    the new profile instead: possible only when a create with that id ran between the time the
    id was learned and the end of the delete. Returns (delete, create) pairs where that holds.
    """
    creates = [op for op in ops if op.status == "created"]
    pairs = []
    for delete in ops:
        if delete.status != "deleted":
            continue
        for create in creates:
            if (
                create.profile_id == delete.profile_id
                and create.account != delete.account
                and create.end > delete.learned
                and create.start < delete.end
            ):
                pairs.append((delete, create))
    return pairs


def last_writers(ops: list[Op]) -> list[Op]:
    """The writes that may have committed last: each commits somewhere between its start and end,
    so a write can be the last one only if it ended after every other write had started."""
    writes = [op for op in ops if op.wrote]
    candidates = []
    for op in writes:
        latest_other_start = max((o.start for o in writes if o is not op), default=-1)
        if op.end > latest_other_start:
            candidates.append(op)
    return candidates


def check_acknowledged(ops: list[Op], stored: dict, rejected: set, resync_only=None) -> dict:
    """Assert that which accounts are stored, and as which profile, follows from the results."""
    by_account: dict[tuple[str, str], list[Op]] = defaultdict(list)
    for op in ops:
        by_account[op.account].append(op)

    # An operation whose answer was an error may or may not have written, and which profile
    # it wrote is not known.
    unanswered = {op.account for op in ops if op.status == "unknown"}
    unsure = set(unanswered)
    for delete, create in ambiguous_deletes(ops):
        unsure.update((delete.account, create.account))

    decided = 0
    for account, history in by_account.items():
        statuses = Counter(op.status for op in history)
        where = f"{account}: {dict(statuses)}"
        if account in rejected:
            assert set(statuses) <= {"rejected", "missing"}, where
            assert account not in stored, where
            continue
        if account == resync_only:
            continue  # stored before the operations began: checked below
        assert statuses["rejected"] == 0, where
        present = account in stored
        if account not in unanswered:
            # An update changes, and the store holds, a profile that an acknowledged connect
            # of this same account created.
            created_ids = {op.profile_id for op in history if op.status == "created"}
            for op in history:
                if op.status == "updated":
                    assert op.profile_id in created_ids, f"{where}: update of {op.profile_id}"
            if present:
                assert stored[account].id in created_ids, f"{where}: stored as an unknown id"
        if account in unsure:
            continue
        # Every create follows a delete, except the first: created = deleted (+ 1 if stored).
        assert statuses["created"] == statuses["deleted"] + present, where
        last = {op.kind for op in last_writers(history)}
        if last == {"connect"}:
            assert present, f"{where}: the last write was a connect, yet it is not stored"
            decided += 1
        elif last == {"delete"} or not last:
            assert not present, f"{where}: the last write was a delete, yet it is stored"
            decided += 1

    if resync_only is not None:
        history = by_account[resync_only]
        assert resync_only in stored, f"{resync_only} was never deleted, yet it is not stored"
        profile = stored[resync_only]
        assert {op.status for op in history} == {"updated"}, history
        assert {op.profile_id for op in history} == {profile.id}
        # Stored once before the workers, then once more per acknowledged re-sync: none lost.
        assert profile.version == 1 + len(history), (
            f"{resync_only}: version {profile.version} after {len(history)} acknowledged re-syncs"
        )
    return {"accounts": len(by_account), "decided": decided, "unsure": len(unsure)}


# --- tests -------------------------------------------------------------------------------


def test_worker_processes_never_duplicate_lose_or_tear_a_profile(app, database_url):
    """Four processes race connects, re-syncs and deletes of the same accounts."""
    accounts = contested_accounts()
    resync_only = resync_only_account()
    with app.app_context():
        assert onboarding.connect_account(*resync_only).status == "created"
    ops = run_workers(database_url, accounts, resync_only, seed=2026)

    with app.app_context():
        db.session.expire_all()
        stored = check_integrity([*accounts, resync_only])
        summary = check_acknowledged(ops, stored, {accounts[-1]}, resync_only)
    assert summary["accounts"] == len(accounts) + 1
    kinds = Counter((op.kind, op.status) for op in ops)
    # The seed makes sure the run raced every kind of write against the others.
    assert kinds[("connect", "created")] and kinds[("connect", "updated")]
    assert kinds[("delete", "deleted")]


def test_deleting_a_profile_never_hands_its_id_to_another_account(app):
    """A late or repeated DELETE /profiles/<id> must not remove a different account."""
    (first, second, third) = [(PLATFORMS[0], uid) for uid in _user_ids(PLATFORMS[0], True, 3)]
    with app.app_context():
        onboarding.connect_account(*first)
        deleted = onboarding.connect_account(*second).profile_id
        assert profiles.delete_profile(deleted)
        reborn = onboarding.connect_account(*third).profile_id
        assert reborn != deleted, f"{third} got the id {deleted} of the deleted {second}"


# --- the same through HTTP, under gunicorn -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The project's own gunicorn.conf.py (gthread workers, as served), then the app and the
# catalogues loaded once in the master, before the workers fork.
GUNICORN_CONFIG = """
exec(compile(open({project!r}).read(), {project!r}, "exec"))
preload_app = True


def when_ready(server):
    from webapp.services.ingestion.connectors import get_connector

    for platform in {platforms!r}:
        get_connector(platform).warm_up()
"""


class Gunicorn:
    """gunicorn serving wsgi:app with several workers on a free loopback port."""

    def __init__(self, database_url: str, instance: Path, workers: int):
        self.port = _free_port()
        self.log = instance / "gunicorn.log"
        instance.mkdir(parents=True, exist_ok=True)
        env = dict(
            os.environ,
            DATABASE_URL=database_url,
            SECRET_KEY="test",
            TOKER_ENV="development",
            TOKER_INSTANCE_PATH=str(instance),
            TOKER_ASSETS="local",
            TOKER_MIN_LIKES="100",
            OPENBLAS_NUM_THREADS="1",
        )
        config = instance / "gunicorn.conf.py"
        config.write_text(
            GUNICORN_CONFIG.format(platforms=PLATFORMS, project=str(ROOT / "gunicorn.conf.py"))
        )
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    Path(sys.executable).parent / "gunicorn",
                    "--config",
                    str(config),
                    "--no-control-socket",
                    "--workers",
                    str(workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout",
                    str(DEADLINE_SECONDS),
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_up(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log.read_text()}"
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        raise AssertionError(f"gunicorn did not answer within {seconds} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        # Every request has been answered: a quick shutdown (SIGINT) loses nothing.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ApiClient:
    """One keep-alive connection to the API with a bearer token."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE_SECONDS)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        self.connection.request(method, path, body=data, headers=self.headers)
        response = self.connection.getresponse()
        payload = response.read()
        is_json = "json" in (response.getheader("Content-Type") or "")
        return response.status, json.loads(payload) if payload and is_json else None

    def close(self) -> None:
        self.connection.close()


def _http_client(index, port, token, accounts, known_ids, lock, seed, ops, problems):
    """Connect and delete accounts through the API; deletes use the last id anyone was told.

    An answer other than the expected ones is a problem, and its operation's effect unknown.
    """
    who = f"thread-{index}"
    rng = random.Random(f"{seed}:{who}")
    client = ApiClient(port, token)
    try:
        for seq in range(HTTP_OPERATIONS):
            platform, user_id = rng.choice(accounts)
            start = time.monotonic_ns()
            if rng.random() < SHARE_OF_DELETES:
                with lock:
                    profile_id, learned = known_ids.get((platform, user_id), (None, None))
                if profile_id is None:
                    continue
                status, body = client.call("DELETE", f"/api/v1/profiles/{profile_id}")
                result = {204: "deleted", 404: "gone"}.get(status, "unknown")
                op = Op(
                    who,
                    seq,
                    "delete",
                    platform,
                    user_id,
                    start,
                    time.monotonic_ns(),
                    result,
                    profile_id,
                    learned,
                )
                what = f"DELETE /api/v1/profiles/{profile_id}"
            else:
                status, body = client.call(
                    "POST", "/api/v1/connect", {"platform": platform, "user_id": user_id}
                )
                result = {201: "created", 200: "updated", 422: "rejected"}.get(status, "unknown")
                profile_id = body["profile"]["id"] if status in (200, 201) else None
                op = Op(
                    who,
                    seq,
                    "connect",
                    platform,
                    user_id,
                    start,
                    time.monotonic_ns(),
                    result,
                    profile_id,
                )
                what = f"POST /api/v1/connect {platform}/{user_id}"
                if profile_id is not None:
                    assert body["status"] == result, body
                    with lock:
                        known_ids[(platform, user_id)] = (profile_id, start)
            ops.append(op)
            if result == "unknown":
                problems.append(f"{who} {what}: {status} {body}")
    except Exception:
        problems.append(f"{who}:\n{traceback.format_exc()}")
    finally:
        client.close()


def test_concurrent_connects_and_deletes_through_gunicorn(app, database_url, tmp_path):
    """Six clients race POST /api/v1/connect and DELETE /api/v1/profiles/<id> on 3 workers."""
    accounts = contested_accounts()
    with app.app_context():
        # The tables exist already (the app fixture); gunicorn's workers share them.
        make_user(app, "race-admin", "admin")
        token = make_token(app, "race-admin")
        db.session.remove()
    server = Gunicorn(database_url, tmp_path / "instance", HTTP_WORKERS)
    ops, problems = [], []
    try:
        server.wait_until_up()
        known_ids, lock = {}, threading.Lock()
        threads = [
            threading.Thread(
                target=_http_client,
                args=(i, server.port, token, accounts, known_ids, lock, 2026, ops, problems),
            )
            for i in range(HTTP_CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DEADLINE_SECONDS)
        assert not any(thread.is_alive() for thread in threads), "a client thread hung"
        log = server.log.read_text()
    finally:
        server.stop()
    with app.app_context():
        db.session.expire_all()
        stored = check_integrity(accounts)
        check_acknowledged(ops, stored, {accounts[-1]})
    assert not problems, "\n".join(problems) + f"\n--- gunicorn log ---\n{log}"
    assert "Traceback" not in log, log
    kinds = Counter((op.kind, op.status) for op in ops)
    assert kinds[("connect", "created")] and kinds[("connect", "updated")]
    assert kinds[("delete", "deleted")]


def test_a_connect_whose_profile_is_deleted_before_it_answers_answers_what_it_stored(
    app, anonymous, auth_headers, monkeypatch
):
    """The interleaving the gunicorn test runs into: a DELETE commits between a connect's
    commit and its answer. The connect happened: it answers 201 with the profile as it stored
    it (the answer is not read back), and the profile is gone afterwards."""
    platform, user_id = contested_accounts()[0]
    store_one = onboarding.store_one
    deleted = []

    def store_then_lose_the_race(record, audited=None, staged=None):
        stored = store_one(record, audited, staged)
        profiles.delete_profile(stored.profile_id)  # another request's DELETE lands here
        deleted.append(stored.profile_id)
        return stored

    monkeypatch.setattr(onboarding, "store_one", store_then_lose_the_race)
    response = anonymous.post(
        "/api/v1/connect", json={"platform": platform, "user_id": user_id}, headers=auth_headers
    )
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["status"] == "created"
    assert body["profile"]["id"] == deleted[0]
    assert (body["profile"]["platform"], body["profile"]["user_id"]) == (platform, user_id)
    assert body["profile"]["liked_videos"], "the payload as stored, not read back"
    gone = anonymous.get(response.headers["Location"], headers=auth_headers)
    assert gone.status_code == 404
