"""The one way this project opens its SQLite databases (conversation log, hand-off tickets, demo orders) and changes
their schema: numbered migrations, the number applied kept in the file's `PRAGMA user_version`.

A migration is one SQL statement or a function of the connection. They run in order, each database once, inside
one `BEGIN IMMEDIATE` transaction, so two processes opening an old file at the same moment cannot both apply them.
Databases made before migrations existed (version 0 with tables already there) are brought up by the same steps:
the first is `CREATE ... IF NOT EXISTS` and column additions skip a column that is already there. Modelled on
simonw/llm's `llm/migrations.py`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

Migration = str | Callable[[sqlite3.Connection], None]


def add_column(table: str, column: str, kind: str) -> Callable[[sqlite3.Connection], None]:
    """A migration adding `column` unless the table already has it (a file from before migrations)."""

    def migrate(con: sqlite3.Connection) -> None:
        if column not in {row[1] for row in con.execute(f"PRAGMA table_info({table})")}:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    migrate.__name__ = f"add_column_{table}_{column}"
    return migrate


def connect(path: Path, migrations: Sequence[Migration] = (), *, secure_delete: bool = False, timeout: float = 30):
    """A connection to `path` (its folder made) with every migration applied. `secure_delete` overwrites what is
    deleted (an erased customer's text must not linger in free pages)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=timeout)
    try:
        if secure_delete:
            con.execute("PRAGMA secure_delete = ON")
        migrate(con, migrations)
    except BaseException:
        con.close()
        raise
    return con


def migrate(con: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Apply the migrations past the file's version; returns the version now."""
    if con.execute("PRAGMA user_version").fetchone()[0] >= len(migrations):
        return len(migrations)  # the common case: no write lock taken
    previous = con.isolation_level
    con.isolation_level = None  # explicit transaction control
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]  # again, under the write lock
            for number in range(version, len(migrations)):
                step = migrations[number]
                if callable(step):
                    step(con)
                else:
                    con.execute(step)
            con.execute(f"PRAGMA user_version = {len(migrations)}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        con.isolation_level = previous
    return len(migrations)


def version(path: Path) -> int:
    """The migration number a database file is at (0 when it has none)."""
    con = sqlite3.connect(path)
    try:
        return int(con.execute("PRAGMA user_version").fetchone()[0])
    finally:
        con.close()
