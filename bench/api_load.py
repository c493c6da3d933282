"""Load on the REST API: 50 concurrent conversations for 60 s against the offline provider, with 1 and then 2 API
worker processes sharing one `chroma run` server and one Redis (conversation state and limits), behind no sticky
balancer: each message goes to the next worker in turn (prints numbers and writes bench/results/api_load.json; not
a test).

Each simulated customer keeps one conversation and asks FAQ questions from the dev set in a loop over SSE. Before
the load, every question is answered once on its own; under load, an answer counts as right only if it is that
same answer in the same conversation (`done.conversation_id`), so an answer landing in another conversation, or a
garbled one, is an error. Reported: requests/s, time to the first text piece (p50/p95), full answer (p50/p95), and
errors. The client runs on the same 2 cores as the servers.

Usage: .venv/bin/python -m bench.api_load [--conversations 50] [--seconds 60] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from base.paths import ROOT

RESULTS = ROOT / "bench" / "results"


def _wait(url: str, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not become ready")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _ask(client, base: str, key: str, conversation: str | None, question: str) -> dict:
    """One SSE answer: the final event, and the times to the first text piece and to the end."""
    body = {"message": question} | ({"conversation_id": conversation} if conversation else {})
    t0 = time.perf_counter()
    first = None
    events: list[tuple[str, dict]] = []
    async with client.stream(
        "POST", f"{base}/v1/chat", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as response:
        if response.status_code != 200:
            await response.aread()
            return {"status": response.status_code}
        kind = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                if kind == "delta" and first is None:
                    first = time.perf_counter() - t0
                events.append((kind, json.loads(line[6:])))
    done = next((d for k, d in events if k == "done"), None)
    return {
        "status": 200,
        "done": done,
        "first": first,
        "total": time.perf_counter() - t0,
        "error_event": any(k == "error" for k, _ in events),
    }


async def _load(
    bases: list[str], key: str, questions: list[str], reference: dict[str, str], conversations: int, seconds: float
) -> dict:
    import httpx

    stats = {"requests": 0, "errors": 0, "wrong_conversation": 0, "wrong_answer": 0, "first": [], "total": []}
    limits = httpx.Limits(max_connections=conversations + 10, max_keepalive_connections=conversations + 10)
    async with httpx.AsyncClient(limits=limits) as client:
        stop = time.perf_counter() + seconds

        async def customer(n: int) -> None:
            conversation = None
            i = n
            while time.perf_counter() < stop:
                base = bases[i % len(bases)]  # round robin per message: the state is in Redis, not in a worker
                question = questions[i % len(questions)]
                i += 7
                try:
                    r = await _ask(client, base, key, conversation, question)
                except Exception:
                    stats["errors"] += 1
                    continue
                stats["requests"] += 1
                done = r.get("done")
                if r["status"] != 200 or done is None or r.get("error_event"):
                    stats["errors"] += 1
                    continue
                if conversation is not None and done["conversation_id"] != conversation:
                    stats["wrong_conversation"] += 1
                conversation = done["conversation_id"]
                if done["answer"] != reference[question]:
                    stats["wrong_answer"] += 1
                if r["first"] is not None:
                    stats["first"].append(r["first"])
                stats["total"].append(r["total"])

        t0 = time.perf_counter()
        await asyncio.gather(*(customer(n) for n in range(conversations)))
        elapsed = time.perf_counter() - t0
    first, total = np.array(stats.pop("first")) * 1000, np.array(stats.pop("total")) * 1000
    return stats | {
        "seconds": round(elapsed, 1),
        "requests_per_second": round(stats["requests"] / elapsed, 1),
        "first_piece_ms": {
            "p50": round(float(np.percentile(first, 50)), 1),
            "p95": round(float(np.percentile(first, 95)), 1),
        },
        "full_answer_ms": {
            "p50": round(float(np.percentile(total, 50)), 1),
            "p95": round(float(np.percentile(total, 95)), 1),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--questions", type=int, default=60)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="api-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    env |= {
        "ASSISTANT_ENV_FILE": "",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ASSISTANT_STORE_DIR": str(work / "store"),
        "ASSISTANT_FEEDBACK_DB": str(work / "log.sqlite3"),
        "ASSISTANT_TICKETS_DB": str(work / "tickets.sqlite3"),
        "ASSISTANT_ORDERS_DB": str(work / "orders.sqlite3"),
        "ASSISTANT_API_KEYS_FILE": str(work / "keys.json"),
        "ASSISTANT_API_RATE_PER_MINUTE": "1000000",
        "ASSISTANT_API_MAX_CONCURRENT": str(args.conversations + 14),
    }
    processes: list[subprocess.Popen] = []
    try:
        chroma_port = _free_port()
        chroma = Path(sys.executable).with_name("chroma")
        processes.append(
            subprocess.Popen(
                [str(chroma), "run", "--path", str(work / "chroma"), "--host", "127.0.0.1", "--port", str(chroma_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        env["ASSISTANT_CHROMA_URL"] = f"http://127.0.0.1:{chroma_port}"
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise SystemExit("redis-server is not installed (make redis)")
        redis_port = _free_port()
        processes.append(
            subprocess.Popen(
                [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        env["ASSISTANT_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        _wait(f"http://127.0.0.1:{chroma_port}/api/v2/heartbeat", 60)
        print("building the demo store in the chroma server (default blend embedder) ...", flush=True)
        subprocess.run(
            [sys.executable, "cli.py", "ingest", "data"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )
        key = (
            subprocess.run(
                [sys.executable, "cli.py", "api-key", "create", "load"],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        dev = [json.loads(x) for x in (ROOT / "eval/sets/dev.jsonl").read_text().splitlines()]
        candidates = [d["query"] for d in dev if d["kind"] == "faq"][: args.questions * 2]
        results: dict = {
            "conversations": args.conversations,
            "seconds": args.seconds,
            "provider": "extractive",
            "embedder": "blend (default)",
            "backend": "chroma run (server mode)",
            "state": "redis-server (ASSISTANT_REDIS_URL)",
            "balancing": "round robin per message (not sticky)",
        }
        servers: list[str] = []
        for workers in [int(w) for w in args.workers.split(",")]:
            while len(servers) < workers:
                port = _free_port()
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "cli.py", "serve", "--port", str(port)],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                servers.append(f"http://127.0.0.1:{port}")
                _wait(f"{servers[-1]}/readyz")
            reference, questions = asyncio.run(_references(servers[0], key, candidates, args.questions))
            print(
                f"{workers} worker(s): {len(questions)} questions, {args.conversations} conversations, "
                f"{args.seconds:.0f} s ...",
                flush=True,
            )
            run = asyncio.run(_load(servers[:workers], key, questions, reference, args.conversations, args.seconds))
            results[f"workers_{workers}"] = run
            print(json.dumps(run), flush=True)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "api_load.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"saved {RESULTS / 'api_load.json'}")
    finally:
        for proc in reversed(processes):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


async def _references(base: str, key: str, candidates: list[str], n: int) -> tuple[dict[str, str], list[str]]:
    """Each question answered once, alone; kept when the store answered it (not declined, no order or hand-off)."""
    import httpx

    reference: dict[str, str] = {}
    async with httpx.AsyncClient() as client:
        for question in candidates:
            r = await _ask(client, base, key, None, question)
            done = r.get("done")
            if done and not done["declined"] and done["model"] == "extractive":
                reference[question] = done["answer"]
            if len(reference) >= n:
                break
    return reference, list(reference)


if __name__ == "__main__":
    main()
