"""Print the uv flags that make `uv pip install` read the same packages as this machine's pip configuration
(extra index URLs, find-links, constraints; every index weighed as pip does). Standard library only: the Makefile
runs it before anything is installed.

Usage: python scripts/pip_to_uv.py [PYTHON]   (PYTHON: whose pip configuration to read; default this one)
"""

from __future__ import annotations

import subprocess
import sys


def pip_config(python: str = sys.executable) -> dict[str, list[str]]:
    """pip's effective index settings (`pip config list`): files and PIP_* variables."""
    out = subprocess.run([python, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    found: dict[str, list[str]] = {"extra-index-url": [], "find-links": [], "constraint": [], "index-url": []}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        name = key.split(".", 1)[-1]
        if name in found:
            found[name] += value.strip().strip("'\"").split()
    return {k: sorted(set(v)) for k, v in found.items()}


def uv_flags(config: dict[str, list[str]]) -> list[str]:
    # pip takes the best version from every index; uv only the first index's unless told the same.
    flags = ["--index-strategy=unsafe-best-match"]
    flags += [f"--index-url={u}" for u in config["index-url"][:1]]
    flags += [f"--extra-index-url={u}" for u in config["extra-index-url"]]
    flags += [f"--find-links={d}" for d in config["find-links"]]
    return flags + [f"--constraint={c}" for c in config["constraint"]]


if __name__ == "__main__":
    print(" ".join(uv_flags(pip_config(sys.argv[1] if len(sys.argv) > 1 else sys.executable))))  # no spaces inside
