"""The feedback store when its database is broken: 503 with a sentence naming the problem, predictions unharmed."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

import anyio
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.feedback import open_store
from app.feedback import sqlite as feedback_sqlite
from app.feedback.postgres import redact
from app.feedback.sqlite import switch_to_wal
from app.feedback.store import Drawing, FeedbackStore, Stats, StoredRow
from app.main import create_app
from app.routes.feedback import STORE_THREADS
from app.settings import Settings
from model.feedback import FILENAME
from tests.app.feedback_stores import drawing_pixels, empty_store, sql
from tests.app.helpers import error
from tests.app.serving import free_port

BODY = {"pixels": drawing_pixels(), "label": 3}


def check_unavailable(settings: Settings, *fragments: str) -> str:
    """Start an app on ``settings``: it starts, predicts, and answers 503 on both feedback endpoints."""
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        detail = error(client.post("/api/feedback", json=BODY), 503, *fragments)
        error(client.get("/api/feedback/stats"), 503, *fragments)
        assert client.post("/api/predict", json={"pixels": BODY["pixels"]}).status_code == 200
    return detail


def test_a_corrupt_database_file(settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    garbage = np.random.default_rng(0).bytes(8192)
    (data / FILENAME).write_bytes(garbage)
    detail = check_unavailable(replace(settings, data_dir=data), "feedback.sqlite3", "not a database", "backup")
    assert str(tmp_path) not in detail  # the folder is the operator's business, in the log
    assert (data / FILENAME).read_bytes() == garbage  # left as it was, for whoever investigates


def test_a_file_where_the_data_folder_should_be(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    check_unavailable(replace(settings, data_dir=tmp_path / "data" / "feedback"), "writable", "DIGITPAD_FEEDBACK=off")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_data_folder(settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o555)
    check_unavailable(replace(settings, data_dir=data), "writable")


def test_the_store_recovers_once_the_database_is_fixed(settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / FILENAME).write_bytes(b"garbage" * 100)
    with TestClient(create_app(replace(settings, data_dir=data))) as client:
        error(client.post("/api/feedback", json=BODY), 503, "not a database")
        (data / FILENAME).unlink()  # the operator moves the broken file away
        assert client.post("/api/feedback", json=BODY).status_code == 201
        assert client.get("/api/feedback/stats").json()["total"] == 1


class HangingStore(FeedbackStore):
    """A store whose calls wait until ``release`` is set, as on a database that stopped answering."""

    location = "a database that hangs"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0  # calls that reached the store
        self._lock = threading.Lock()

    def add(self, drawing: Drawing) -> int:
        self._hang()
        return 1

    def stats(self) -> Stats:
        self._hang()
        return Stats(total=0, per_label=[0] * 10, judged={}, right={})

    def rows(self) -> list[StoredRow]:
        self._hang()
        return []

    def _hang(self) -> None:
        with self._lock:
            self.calls += 1
        self.release.wait()


def waiting_for_a_thread(client: TestClient) -> int:
    """Requests of the app queued for a worker thread: on the shared limit, or on the store's own."""

    def count() -> int:  # runs on the app's event loop, whose limiters these are
        shared = anyio.to_thread.current_default_thread_limiter()
        own = getattr(client.app.state, "feedback_threads", None)
        return sum(limiter.statistics().tasks_waiting for limiter in (shared, own) if limiter is not None)

    return client.portal.call(count)


def test_a_hanging_database_leaves_the_predictions_their_threads(settings: Settings) -> None:
    """48 feedback requests stuck on the database (more than anyio's 40 shared worker threads): predictions
    are still answered, because the store has threads of its own."""
    with TestClient(create_app(settings)) as client:
        store = client.app.state.feedback = HangingStore()
        stuck = ThreadPoolExecutor(48)
        try:
            pending = [stuck.submit(client.post, "/api/feedback", json=BODY) for _ in range(40)]
            pending += [stuck.submit(client.get, "/api/feedback/stats") for _ in range(8)]
            deadline = time.monotonic() + 60  # a bound for failing, not a measure
            while store.calls + waiting_for_a_thread(client) < 48:  # every request is in the store or queued
                assert time.monotonic() < deadline, f"{store.calls} calls reached the store"
                time.sleep(0.01)
            assert store.calls == STORE_THREADS
            with ThreadPoolExecutor(1) as other:
                answer = other.submit(client.post, "/api/predict", json={"pixels": BODY["pixels"]})
                assert answer.result(timeout=60).status_code == 200
        finally:
            store.release.set()
            stuck.shutdown()
        assert [response.result().status_code for response in pending] == [201] * 40 + [200] * 8


def test_an_unreachable_postgresql_server(settings: Settings) -> None:
    url = f"postgresql://digitpad:s3cret-pw@127.0.0.1:{free_port()}/feedback"  # nothing listens there
    detail = check_unavailable(replace(settings, database_url=url), "cannot be reached", "server log")
    assert "127.0.0.1" not in detail and "s3cret" not in detail


def test_urls_are_logged_without_their_password() -> None:
    assert redact("postgresql://app:s3cret@db.internal:5432/digitpad?sslmode=require") == (
        "postgresql://app@db.internal:5432/digitpad"
    )
    assert redact("postgresql://db.internal/digitpad") == "postgresql://db.internal/digitpad"


def test_two_replicas_creating_the_schema_at_once(settings: Settings, tmp_path: Path) -> None:
    """Two stores (as in two replicas) on a new PostgreSQL schema, 8 threads each writing at once."""
    with empty_store("postgresql", settings, tmp_path) as chosen:
        stores = [open_store(chosen), open_store(chosen)]
        start = threading.Barrier(16)

        def add(i: int) -> int:
            start.wait()
            drawing = Drawing(np.array(drawing_pixels(i), dtype=np.float32), label=i % 10, predicted=None, model=None)
            return stores[i % 2].add(drawing)

        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(add, range(16)))
        assert len(set(ids)) == 16
        assert sql(chosen, "SELECT version FROM schema_version") == [(1,)]
        assert sql(chosen, "SELECT COUNT(*) FROM feedback") == [(16,)]


def first_writes(settings: Settings, start: BarrierType, results: Queue) -> None:
    """In a process of its own: 8 threads wait at ``start``, then each stores a drawing; ids or errors → ``results``."""
    try:
        store = open_store(settings)  # one per process, as in a server worker: it only opens connections when used
    except Exception as err:  # noqa: BLE001 — reported to the test, once for each thread that would have written
        for _ in range(8):
            results.put(f"{type(err).__name__}: {err}")
        return

    def add(i: int) -> None:
        try:
            start.wait(timeout=60)
            drawing = Drawing(np.array(drawing_pixels(i), dtype=np.float32), label=i % 10, predicted=None, model=None)
            results.put(store.add(drawing))
        except Exception as err:  # noqa: BLE001 — any failure is reported to the test, not lost in the child
            results.put(f"{type(err).__name__}: {err}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(8)))


def test_two_processes_creating_a_new_sqlite_file_at_once(settings: Settings, tmp_path: Path) -> None:
    """Two processes (as two server workers) make their first writes to a new SQLite file at once, 8 threads each,
    30 times. Turning a new file into a WAL database needs the file to itself, and SQLite refuses at once ("database
    is locked", without waiting) when two connections try together: 3 to 8 of 30 such starts failed before the
    store retried."""
    # Forked, the children start in milliseconds with this module loaded (Python 3.11 does not warn about forking
    # a process with threads; 3.12 would).
    processes = multiprocessing.get_context("fork")
    for attempt in range(30):
        chosen = replace(settings, data_dir=tmp_path / f"data-{attempt}", database_url=None)
        start, results = processes.Barrier(16), processes.Queue()
        workers = [
            processes.Process(target=first_writes, args=(chosen, start, results), daemon=True) for _ in range(2)
        ]
        try:
            for worker in workers:
                worker.start()
            answers = [results.get(timeout=120) for _ in range(16)]
            for worker in workers:
                worker.join(timeout=60)
                assert worker.exitcode == 0
        finally:
            for worker in workers:
                if worker.is_alive():
                    worker.kill()
        errors = [answer for answer in answers if isinstance(answer, str)]
        assert not errors, f"attempt {attempt}: {errors[0]}"
        assert sorted(answers) == list(range(1, 17))
        assert sql(chosen, "PRAGMA journal_mode") == [("wal",)]


class RefusingConnection:
    """Stands in for a connection whose ``PRAGMA journal_mode = WAL`` fails with each of ``errors`` first."""

    def __init__(self, *errors: int) -> None:
        self.errors = list(errors)  # SQLite result codes, raised in turn
        self.tries = 0

    def execute(self, statement: str) -> RefusingConnection:
        self.tries += 1
        if self.errors:
            err = sqlite3.OperationalError(f"error {self.errors[0]}")
            err.sqlite_errorcode = self.errors.pop(0)
            raise err
        return self  # as a cursor: the pragma's answer below

    def fetchone(self) -> tuple[str]:
        return ("wal",)


def test_the_switch_to_wal_is_tried_again_while_the_file_is_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    busy = RefusingConnection(sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY)
    assert switch_to_wal(busy) == "wal" and busy.tries == 3
    other = RefusingConnection(sqlite3.SQLITE_IOERR)
    with pytest.raises(sqlite3.OperationalError):
        switch_to_wal(other)  # not a lock: no use waiting
    assert other.tries == 1
    monkeypatch.setattr(feedback_sqlite, "BUSY_SECONDS", 0.05)
    always = RefusingConnection(*[sqlite3.SQLITE_BUSY] * 500)
    with pytest.raises(sqlite3.OperationalError):
        switch_to_wal(always)  # gives up after BUSY_SECONDS
    assert 2 <= always.tries < 100


def test_feedback_settings_from_the_environment() -> None:
    assert Settings.from_env({}).feedback is True and Settings.from_env({}).data_dir == Path("data")
    chosen = Settings.from_env(
        {
            "DIGITPAD_FEEDBACK": "Off",
            "DIGITPAD_DATA_DIR": "/var/lib/digitpad",
            "DIGITPAD_DATABASE_URL": "postgresql://app@db/digitpad",
            "DIGITPAD_FEEDBACK_MAX_ROWS": "500",
        }
    )
    assert (chosen.feedback, chosen.data_dir, chosen.database_url, chosen.feedback_max_rows) == (
        False,
        Path("/var/lib/digitpad"),
        "postgresql://app@db/digitpad",
        500,
    )
