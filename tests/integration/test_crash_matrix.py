"""The fast part of the crash matrix (bench/crash_matrix.py): every kind of writer SIGKILLed at a named point in
the code (no timing involved), plus a write that runs out of disk part-way; after each, a fresh process must
find the store readable, every source exactly its old or its new version, and searches answering.

The whole matrix (>= 50 kills, timed moments too) is `python -m bench.crash_matrix` (README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash_matrix import fast_steps, run_matrix

pytestmark = pytest.mark.integration


def test_killed_writers_always_leave_a_whole_store(tmp_path: Path) -> None:
    lines: list[str] = []
    tally = run_matrix(fast_steps(), workdir=tmp_path, log=lines.append)
    assert len(tally.kills) == 10, "\n".join(lines)  # every planned kill landed at its point
    assert {o.op for o in tally.kills} == {"ingest", "upload", "delete", "reindex", "add_answer", "rebuild"}
    assert all(o.ok for o in tally.outcomes), "\n".join(lines + tally.lines())
    assert any(o.recovered for o in tally.kills)  # at least one kill left an index that had to be rebuilt
    assert [o.op for o in tally.outcomes if not o.killed] == ["fsize"]
