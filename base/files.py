"""Writing small JSON files so that a reader never sees half of one (id files, key files, result tables)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: Any, mode: int | None = None) -> None:
    """Write `data` as indented JSON to a unique temporary file beside `path`, then rename it over `path`.

    A unique name (not the process id) keeps two threads of one server from writing the same temporary file;
    `mode` (e.g. 0o600 for secrets' hashes) is set before the file takes the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
