"""Parse one untrusted file in a child process with a wall-clock, CPU and memory limit.

A hostile or broken file (a PDF whose page tree loops, a decompression bomb the zip checks missed, a
parser bug) must not hang or kill the app that serves customers. The child (`python -m loaders.isolated`)
gets the file path and limits as JSON on stdin, caps its own address space and CPU time, parses, and
writes plain JSON back (never pickle: the child handled hostile bytes). Whatever goes wrong becomes one
`LoaderError` naming the file. Startup costs about 0.8 s per file, measured; the store is untouched.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from langchain_core.documents import Document

from base.faults import ENV as FAULTS_ENV
from base.faults import fault_point
from base.paths import ROOT
from base.types import DEFAULT_LIMITS, ParseLimits
from loaders import LoaderError, ParsedFile, parse_file

_MEMORY_REASON = "parsing needed more than {mb} MB of memory (limit); the file may be malformed or too complex"
_TIME_REASON = "parsing took longer than {s:g} s (limit); the file may be malformed or too complex"


def parse_isolated(
    path: str | Path, limits: ParseLimits = DEFAULT_LIMITS, columns: dict[str, str] | None = None
) -> ParsedFile:
    """`loaders.parse_file` in a child process under `limits.timeout_seconds` and `limits.memory_mb`; limits
    exceeded or a crash raise `LoaderError`."""
    path = Path(path)
    timeout_seconds, memory_mb = limits.timeout_seconds, limits.memory_mb
    request = {"path": str(path.resolve()), "limits": asdict(limits), "columns": columns}
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME", FAULTS_ENV)}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        proc = subprocess.run(
            [sys.executable, "-E", "-B", "-m", "loaders.isolated"],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=timeout_seconds,
            cwd=ROOT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:  # subprocess.run kills the child before raising
        raise LoaderError(path, _TIME_REASON.format(s=timeout_seconds)) from None
    try:
        reply = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        reply = None
    if isinstance(reply, dict) and reply.get("ok") is True:
        docs = [Document(page_content=d["text"], metadata=d["metadata"]) for d in reply["docs"]]
        held = {int(n): str(reason) for n, reason in reply.get("held", {}).items()}
        return ParsedFile(docs, [str(w) for w in reply.get("warnings", [])], held)
    if isinstance(reply, dict) and reply.get("reason"):
        raise LoaderError(path, str(reply["reason"]))
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise LoaderError(path, _TIME_REASON.format(s=timeout_seconds))
    if "MemoryError" in stderr or "Cannot allocate memory" in stderr or "bad_alloc" in stderr:
        raise LoaderError(path, _MEMORY_REASON.format(mb=memory_mb))
    last = stderr.strip().splitlines()[-1][:200] if stderr.strip() else f"exit status {proc.returncode}"
    raise LoaderError(path, f"the parser crashed ({last})")


def _child() -> int:
    """Child side: limits first, then parse, then one JSON reply on stdout."""
    import resource

    request = json.loads(sys.stdin.buffer.read())
    limits = ParseLimits(**request["limits"])
    memory = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(limits.timeout_seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    path = Path(request["path"])
    fault_point("parse.start")
    try:
        parsed = parse_file(path, limits, request.get("columns"))
        reply = {
            "ok": True,
            "docs": [{"text": d.page_content, "metadata": d.metadata} for d in parsed.docs],
            "warnings": parsed.warnings,
            "held": {str(n): reason for n, reason in parsed.held.items()},
        }
    except LoaderError as exc:
        reply = {"ok": False, "reason": exc.reason}
    except MemoryError:
        reply = {"ok": False, "reason": _MEMORY_REASON.format(mb=limits.memory_mb)}
    except RecursionError:
        reply = {"ok": False, "reason": "the file is nested too deeply to parse (possibly malicious)"}
    sys.stdout.write(json.dumps(reply, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child())
