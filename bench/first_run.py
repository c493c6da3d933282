"""How long a fresh clone takes from `git clone` to the first answer in a browser (what `make run` does).

Clones the repository (HEAD) into a new folder and times each step there: the clone, `make install`, `make
embedder`, `make store`, then `cli.py app` (what `make run` starts) until it answers health checks and until it
prints that its models are loaded, then Chromium opening the chat page and getting the answer to one question
(the first answer after the page opens). Needs Debian's Chromium (`make chromium`). Writes the steps to
bench/results/first_run.txt.

Usage: .venv/bin/python -m bench.first_run [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from base.paths import ROOT

QUESTION = "Do gift cards expire?"
EXPECT = "never expire"


def _step(name: str, argv: list[str], cwd: Path, rows: list[tuple[str, float]]) -> None:
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{name} failed ({done.returncode}): {done.stderr[-2000:]}")
    rows.append((name, time.perf_counter() - t0))
    print(f"{name}: {rows[-1][1]:.0f} s", flush=True)


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


def _first_answer(clone: Path, rows: list[tuple[str, float]]) -> None:
    import socket

    from playwright.sync_api import sync_playwright

    from bench.crash_matrix import CHROMIUM_ARGS

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    argv = [str(clone / ".venv/bin/python"), "cli.py", "app", "--port", str(port), "--address", "127.0.0.1",
            "--headless"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        while not _healthy(url):
            if proc.poll() is not None:
                sys.exit(f"the app exited with {proc.returncode}")
            time.sleep(0.2)
        rows.append(("app answers health checks", time.perf_counter() - t0))
        ready = threading.Event()

        def drain(out) -> None:  # read everything, so the app never blocks on a full pipe
            for line in out:
                if line.startswith("assistant ready"):  # app_pages/preload.py, once the models are loaded
                    ready.set()

        threading.Thread(target=drain, args=(proc.stdout,), daemon=True).start()
        if not ready.wait(600):
            sys.exit("the app did not report its models loaded within 600 s")
        rows.append(("app's models loaded in the background (after health)", time.perf_counter() - t0 - rows[-1][1]))
        t1 = time.perf_counter()
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as home:
            chromium = shutil.which("chromium") or "/usr/bin/chromium"
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, env={**env, "HOME": home})
            page = browser.new_page()
            page.goto(url)
            box = page.get_by_test_id("stChatInputTextArea")
            box.wait_for(timeout=300_000)
            rows.append(("Chromium started, the chat page open and ready for a question", time.perf_counter() - t1))
            box.fill(QUESTION)
            t2 = time.perf_counter()
            box.press("Enter")
            page.get_by_text(EXPECT, exact=False).first.wait_for(timeout=300_000)
            rows.append((f"asked {QUESTION!r}: the first answer shown", time.perf_counter() - t2))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="clone here and keep it (default: a temporary folder, removed)")
    args = ap.parse_args()
    parent = args.keep or Path(tempfile.mkdtemp(prefix="first-run-"))
    clone = parent / "clone"
    rows: list[tuple[str, float]] = []
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    try:
        _step("git clone", ["git", "clone", "-q", str(ROOT), str(clone)], parent, rows)
        for target in ("install", "embedder", "store"):
            _step(f"make {target}", ["make", target], clone, rows)
        _first_answer(clone, rows)
    finally:
        if args.keep is None:
            shutil.rmtree(parent, ignore_errors=True)
    total = sum(seconds for _, seconds in rows)
    head = f"First run of a fresh clone (commit {commit.stdout.strip()}, {os.cpu_count()} cores; bench/first_run.py):"
    lines = [head]
    lines += [f"  {name:<64}{seconds:>7.1f} s" for name, seconds in rows]
    lines.append(f"  {'total, git clone to the first answer in the browser':<64}{total:>7.0f} s ({total / 60:.1f} min)")
    text = "\n".join(lines) + "\n"
    print(text)
    out = ROOT / "bench" / "results" / "first_run.txt"
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
