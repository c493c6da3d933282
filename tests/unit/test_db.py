"""base/db.py: numbered migrations in PRAGMA user_version, applied once, and files from before migrations brought up
to date by the same steps."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from base import db
from services.conversation_log import MIGRATIONS as LOG_MIGRATIONS
from services.conversation_log import ConversationLog


def test_migrations_run_once_in_order_and_the_version_is_kept(tmp_path: Path) -> None:
    runs: list[str] = []
    steps = [
        "CREATE TABLE t (a TEXT)",
        lambda con: runs.append("second") or con.execute("INSERT INTO t VALUES ('x')"),
        db.add_column("t", "b", "INTEGER"),
    ]
    path = tmp_path / "x.sqlite3"
    for _ in range(3):
        db.connect(path, steps).close()
    assert runs == ["second"] and db.version(path) == 3
    con = db.connect(path, [*steps, "CREATE INDEX t_by_a ON t (a)"])  # a new migration: only it runs
    assert [r[1] for r in con.execute("PRAGMA table_info(t)")] == ["a", "b"] and runs == ["second"]
    con.close()
    assert db.version(path) == 4


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    db.connect(path, ["CREATE TABLE t (a TEXT)"]).close()
    with pytest.raises(sqlite3.OperationalError):
        db.connect(path, ["CREATE TABLE t (a TEXT)", "CREATE TABLE u (a TEXT)", "NOT SQL"])
    assert db.version(path) == 1
    con = sqlite3.connect(path)
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["t"]
    con.close()


def test_a_log_written_before_migrations_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)  # the log as the first version wrote it: no standalone column, no subjects
    con.execute(
        "CREATE TABLE interactions (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, session_id TEXT "
        "NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, sources TEXT NOT NULL, model TEXT NOT NULL, "
        "declined INTEGER NOT NULL, rating INTEGER)"
    )
    con.execute(
        "INSERT INTO interactions VALUES (1, '2026-01-01T00:00:00+00:00', 's', 'q', 'a', '[]', 'extractive', 0, NULL)"
    )
    con.commit()
    con.close()
    log = ConversationLog(path)
    log.record("s2", "Do gift cards expire?", "Never.", [], "extractive", False, standalone="gift cards")
    assert db.version(path) == len(LOG_MIGRATIONS)
    assert [r["question"] for r in log.session_rows("s")] == ["q"]


def test_two_connections_migrating_at_once_apply_each_step_once(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    runs: list[int] = []
    steps = ["CREATE TABLE t (a TEXT)", lambda con: runs.append(1)]
    threads = [threading.Thread(target=lambda: db.connect(path, steps).close()) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert runs == [1] and db.version(path) == 2
