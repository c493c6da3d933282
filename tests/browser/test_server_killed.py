"""A real `streamlit run` server SIGKILLed in the middle of an upload made through Chromium: the store comes back
whole (the old version of the file) for the next process, as in the crash matrix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.crash_matrix import run_matrix

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("point", ["store.after_batch@1", "store.after_switch"])
def test_a_server_killed_during_an_upload_leaves_a_whole_store(tmp_path: Path, point: str) -> None:
    assert shutil.which("chromium") or Path("/usr/bin/chromium").exists(), "Debian chromium is needed (make test)"
    lines: list[str] = []
    tally = run_matrix([("server_upload", f"{point}=kill")], workdir=tmp_path, log=lines.append)
    [outcome] = tally.outcomes
    assert outcome.killed, "\n".join(lines)  # the server died at the point, mid-upload
    assert outcome.ok, "\n".join(lines)
