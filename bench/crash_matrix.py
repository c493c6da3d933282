"""Crash matrix: SIGKILL the store's writers at seeded moments, then check that the store comes back whole.

    python -m bench.crash_matrix                 # the whole matrix (>= 50 kills): bench/results/crash_matrix.txt
    python -m bench.crash_matrix --fast          # 11 kills at named points and a full disk (what `make test` runs)
    python -m bench.crash_matrix --seed 11 --kills 80 --out /tmp/matrix.txt

Writers, each a real process: `cli.py ingest`, the admin upload path (`services.uploads.ingest_uploads`), `cli.py
delete`, `cli.py reindex`, *Add an answer* (`services.uploads.add_faq_entry`), the index rebuild after a tear, and
(unless --no-server) a real `streamlit run` server killed while staff upload through Chromium. Each is killed by
`ASSISTANT_FAULTS`: at a named point in the code (`store.before_switch`, ...), or a seeded 0–400 ms after one (a
moment anywhere, e.g. inside Chroma's own persistence). One more writer runs under RLIMIT_FSIZE (a disk that
fills part-way) and must fail with one clear line.

After every kill a fresh process opens the store (checking and rebuilding the index if needed, timed), then
checks: every source is exactly one version of its file (its live chunks are the chunks of its kept copy, whose
sha256 the manifest records) and that version is the old or the new one; the index holds every live chunk; and
a search for sampled chunks finds them (one per source that HNSW left unlinked but the index holds whole is counted
apart, see `verify`). Embeddings are the test fake: crash behaviour does not depend on the model.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from base.paths import ROOT

RESULTS = ROOT / "bench" / "results" / "crash_matrix.txt"
FAQ_ENTRIES = 1500  # above Chroma's sync threshold, so the HNSW index is really persisted (and can tear)
PASSWORD = "crash-matrix-staff"
# Per-file size cap for the "full disk" writer. The store's main files are already larger, so the first write into
# them fails, while the manifest's write-ahead log (fresh after a clean close) takes the first batches of chunk
# copies: the write fails after it has started, as when a disk fills up during an upload.
FILE_LIMIT = 1024 * 1024

# Named points per writer (see `base.faults`); `@n` = the n-th time the point is reached.
POINTS = {
    "ingest": ["store.after_batch@1", "store.after_batch@2", "store.before_switch", "store.after_switch",
               "store.after_delete_batch", "store.before_marker_clear"],
    "upload": ["store.after_batch@1", "store.before_switch", "store.after_switch", "store.before_marker_clear"],
    "delete": ["store.delete_after_switch", "store.after_delete_batch", "store.before_marker_clear"],
    "reindex": ["store.after_batch@3", "kb.reindex_built", "kb.reindex_swap"],
    "add_answer": ["store.before_switch", "store.after_switch", "store.before_marker_clear"],
    "rebuild": ["store.rebuild_batch", "store.rebuild_swap"],
    "server_upload": ["store.after_batch@1", "store.before_switch", "store.after_switch"],
}  # fmt: skip
# Where a timed kill starts its clock: the writer is then somewhere in its remaining work.
TIMER_FROM = {"ingest": "store.after_batch@1", "upload": "store.after_batch@1", "delete": "store.delete_after_switch",
              "reindex": "store.after_batch@1", "add_answer": "store.before_switch", "rebuild": "store.rebuild_batch",
              "server_upload": "store.after_batch@1"}  # fmt: skip
FAST = [("ingest", "store.after_batch@2"), ("ingest", "store.after_switch"), ("upload", "store.before_switch"),
        ("delete", "store.after_delete_batch"), ("reindex", "kb.reindex_swap"), ("reindex", "store.after_batch@3"),
        ("add_answer", "store.after_switch"), ("rebuild", "store.rebuild_batch"),
        ("ingest", "store.before_marker_clear"), ("upload", "store.after_batch@1"), ("fsize", "")]  # fmt: skip


UNREADABLE, HALF, WRITER = "unreadable: ", "half-version: ", "writer: "  # what kind each problem is


@dataclass
class Outcome:
    op: str
    rule: str
    killed: bool
    ok: bool
    problems: list[str]
    recovered: bool  # the index was rebuilt (a recovery event was logged)
    open_seconds: float  # the first open after the kill: check + rebuild, in a fresh process
    why: str = ""  # the recovery event's message
    unlinked: int = 0  # sampled chunks held whole by the index that no search reached (see `verify`)


@dataclass
class Tally:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def kills(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.killed]

    def lines(self) -> list[str]:
        kills = self.kills
        fsize = [o for o in self.outcomes if o.op == "fsize"]
        recovered = [o for o in kills if o.recovered]
        bad = [o for o in self.outcomes if not o.ok]
        half = [o for o in self.outcomes if any(p.startswith(HALF) for p in o.problems)]
        unreadable = [o for o in self.outcomes if any(p.startswith(UNREADABLE) for p in o.problems)]
        opens = [o.open_seconds for o in kills]
        rebuilds = [o.open_seconds for o in recovered]
        by_op: dict[str, int] = {}
        for o in kills:
            by_op[o.op] = by_op.get(o.op, 0) + 1
        out = [
            f"kills: {len(kills)} ({', '.join(f'{op} {n}' for op, n in sorted(by_op.items()))})",
            f"runs that finished before their kill moment: {len(self.outcomes) - len(kills) - len(fsize)}",
            f"index rebuilt after the kill: {len(recovered)}",
            f"stores that did not come back whole: {len(bad)} "
            f"(unreadable: {len(unreadable)}, half-versions: {len(half)})",
        ]
        if opens:
            out.append(
                f"first open after a kill (fresh process, check included): median {statistics.median(opens):.2f} s, "
                f"max {max(opens):.2f} s"
            )
        if rebuilds:
            out.append(
                f"of which with a rebuild: median {statistics.median(rebuilds):.2f} s, max {max(rebuilds):.2f} s"
            )
        if fsize:
            out.append(
                f"writes that hit RLIMIT_FSIZE part-way: {len(fsize)}, store intact after: {sum(o.ok for o in fsize)}"
            )
        unlinked = sum(o.unlinked for o in self.outcomes)
        out.append(
            f"sampled chunks held whole but reached by no search (HNSW left them unlinked; not crash damage): "
            f"{unlinked} in {sum(o.unlinked > 0 for o in self.outcomes)} checks"
        )
        for o in bad:
            out.append(f"FAILED {o.op} {o.rule}: {'; '.join(o.problems)}")
        return out


# -- the store's files, version by version ----------------------------------------------------------------
def faq_version(rng: random.Random, previous: list[dict] | None) -> list[dict]:
    """A new version of the FAQ: a third of the answers change, a few entries come and go."""
    if previous is None:
        return [{"id": f"e{n}", "question": f"Is part {n} {n * 7} {n * 13 + 5} in stock?",
                 "answer": f"Part {n} ships in {rng.randint(1, 9)} days."} for n in range(FAQ_ENTRIES)]  # fmt: skip
    entries = [dict(e) for e in previous if rng.random() > 0.01]
    for entry in entries:
        if rng.random() < 0.33:
            entry["answer"] = f"Part {entry['id'][1:]} ships in {rng.randint(1, 9)} days ({rng.randint(0, 999)})."
    top = max(int(e["id"][1:]) for e in entries) + 1
    for n in range(top, top + rng.randint(0, 20)):
        entries.append({"id": f"e{n}", "question": f"Is part {n} {n * 7} {n * 13 + 5} in stock?",
                        "answer": f"Part {n} ships in 2 days."})  # fmt: skip
    return entries


def policy_version(rng: random.Random) -> str:
    paragraphs = [
        f"Returns. Items can be returned within {rng.choice([14, 30, 45, 60])} days of delivery for a full refund.",
        f"Shipping. Standard shipping takes {rng.randint(2, 7)} business days; express takes {rng.randint(1, 2)}.",
        f"Warranty. Cookware carries a {rng.randint(1, 10)}-year warranty against manufacturing defects.",
    ]
    return "\n\n".join(p * 4 for p in paragraphs)


class Workspace:
    """A store, its input files and the environment its writer processes run with."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        self.store = root / "store"
        self.inputs = root / "inputs"
        self.inputs.mkdir(parents=True)
        self.faq: list[dict] | None = None

    def env(self, **extra: str) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            ASSISTANT_ENV_FILE="",
            ASSISTANT_STORE_DIR=str(self.store),
            ASSISTANT_FEEDBACK_DB=str(self.root / "feedback.sqlite3"),
            ASSISTANT_EMBEDDING_PROVIDER="fake",
            HF_HUB_OFFLINE="1",
        )
        env.update(extra)
        return env

    def next_faq(self) -> Path:
        self.faq = faq_version(self.rng, self.faq)
        path = self.inputs / "parts_faq.json"
        path.write_text(json.dumps({"questions": self.faq}), encoding="utf-8")
        return path

    def next_policy(self) -> Path:
        path = self.inputs / "returns_policy.txt"
        path.write_text(policy_version(self.rng), encoding="utf-8")
        return path

    def run(self, argv: list[str], rule: str = "", timeout: float = 300, **popen) -> subprocess.CompletedProcess:
        env = self.env(ASSISTANT_FAULTS=rule) if rule else self.env()
        return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, **popen)


def _cli(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "cli.py"), *args]


def _drive(*args: str) -> list[str]:
    return [sys.executable, "-m", "bench.crash_matrix", "--drive", *args]


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def tear(store: Path) -> int:
    pickles = list((store / "chroma").rglob("index_metadata.pickle"))
    for pickle in pickles:
        pickle.write_bytes(b"")
    return len(pickles)


# -- one scenario -------------------------------------------------------------------------------------------
def run_scenario(ws: Workspace, op: str, rule: str, live: dict[str, str]) -> Outcome:
    """Run one writer with `rule`, then verify. `live` maps source -> sha256 of its live version (updated)."""
    allowed: dict[str, set[str | None]] = {s: {sha} for s, sha in live.items()}
    expect_error = False
    if op in ("ingest", "upload", "server_upload", "fsize"):
        files = [ws.next_faq()] + ([ws.next_policy()] if op == "ingest" and ws.rng.random() < 0.5 else [])
        for f in files:
            allowed.setdefault(f.name, {None}).add(_sha(f))
        if op == "ingest":
            argv = _cli("ingest", *map(str, files))
        elif op == "upload":
            argv = _drive("upload", *map(str, files))
        elif op == "fsize":
            argv, expect_error = _cli("ingest", str(files[0])), True
    elif op == "delete":
        target = "returns_policy.txt" if "returns_policy.txt" in live else "parts_faq.json"
        allowed[target].add(None)
        argv = _cli("delete", target)
    elif op == "reindex":
        argv = _cli("reindex")
    elif op == "add_answer":
        question = f"Do you stock spare lids for model {ws.rng.randint(1, 40)}?"
        answer = f"Yes, lids for that model cost ${ws.rng.randint(5, 30)}.00."
        from loaders.faq import faq_json_with_entry

        kept = ws.store / "files" / "staff_faq.json"
        new = faq_json_with_entry(
            kept.read_text(encoding="utf-8") if "staff_faq.json" in live else None, question, answer
        )
        import hashlib

        allowed.setdefault("staff_faq.json", {None}).add(hashlib.sha256(new.encode("utf-8")).hexdigest())
        argv = _drive("add_answer", question, answer)
    elif op == "rebuild":
        tear(ws.store)
        argv = _cli("stats")
    else:
        raise ValueError(op)

    if op == "server_upload":
        rc = _server_upload(ws, rule, files)
        done = None
    elif op == "fsize":
        done = _run_with_file_limit(ws, argv)
        rc = done.returncode
    else:
        done = ws.run(argv, rule)
        rc = done.returncode
    killed = rc == -signal.SIGKILL
    problems: list[str] = []
    if op == "fsize":
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        if rc != 1 or len(errors) != 1 or "Traceback" in done.stderr:
            problems.append(f"{WRITER}file-size limit: exit {rc}, stderr {done.stderr.strip()[-300:]!r}")
        elif not re.search(r"disk is full|file-size limit|disk space", errors[0]):
            problems.append(f"{WRITER}file-size limit: unclear error {errors[0]!r}")
    elif not killed and rc != 0:
        problems.append(f"{WRITER}failed without being killed: exit {rc}: {(done.stderr if done else '')[-300:]}")

    t0 = time.perf_counter()
    check = ws.run(_drive("verify"), timeout=600)
    open_seconds = time.perf_counter() - t0
    try:
        report = json.loads(check.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        report = {"ok": False, "problems": [f"{UNREADABLE}the store did not open (exit {check.returncode}): "
                                            f"{check.stderr[-300:]}"]}  # fmt: skip
    problems += report.get("problems", [])
    found: dict[str, str] = report.get("sources", {})
    for source in set(found) | set(allowed):
        if found.get(source) not in allowed.get(source, {None}):
            problems.append(f"{HALF}{source}: live version {found.get(source)} is neither the old nor the new one")
    if expect_error and found.get("parts_faq.json") != live.get("parts_faq.json"):
        problems.append(f"{HALF}the write that hit the file-size limit changed the live version")
    live.clear()
    live.update(found)
    opened = report.get("open", open_seconds)
    return Outcome(
        op,
        rule,
        killed,
        not problems,
        problems,
        bool(report.get("recovered")),
        opened,
        report.get("why", ""),
        int(report.get("unlinked", 0)),
    )


def _run_with_file_limit(ws: Workspace, argv: list[str]) -> subprocess.CompletedProcess:
    import resource

    limit = FILE_LIMIT

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return ws.run(argv, preexec_fn=cap)


def _server_upload(ws: Workspace, rule: str, files: list[Path]) -> int:
    """Start `streamlit run`, sign in and upload through Chromium; the server kills itself at `rule`."""
    import bcrypt
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = ws.env(
        ASSISTANT_FAULTS=rule,
        ASSISTANT_ADMIN_PASSWORD_HASH=bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode(),
    )
    argv = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                         args=CHROMIUM_ARGS, env=ws.env(HOME=str(ws.root)))  # fmt: skip
            page = browser.new_page()
            for _ in range(600):  # the server takes a few seconds to listen
                try:
                    page.goto(url)
                    break
                except Exception:
                    if proc.poll() is not None:
                        return proc.returncode
                    time.sleep(0.1)
            page.get_by_text("Staff sign-in").first.click()
            page.get_by_label("Admin password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Documents in the store").wait_for(timeout=60_000)
            page.locator("input[type=file]").set_input_files([str(f) for f in files])
            page.get_by_role("button", name="Add to knowledge base").click()
            try:
                return proc.wait(timeout=120)  # the fault point kills the server in the middle of the upload
            finally:
                browser.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


# -- the matrix ---------------------------------------------------------------------------------------------
def plan(rng: random.Random, kills: int, server: bool) -> list[tuple[str, str]]:
    """(writer, rule) pairs: every named point once, then seeded timed kills; RLIMIT_FSIZE writes mixed in."""
    ops = [op for op in POINTS if server or op != "server_upload"]
    named = [(op, f"{point}=kill") for op in ops for point in POINTS[op]]
    timed = []
    while len(named) + len(timed) < kills + 10:  # some timed runs finish before their kill: plan spares
        op = rng.choice([o for o in ops if o != "server_upload"])
        timed.append((op, f"{TIMER_FROM[op]}=kill+{rng.uniform(0.0, 0.4):.3f}"))
    steps = named + timed
    rng.shuffle(steps)
    for n in range(3):
        steps.insert((n + 1) * len(steps) // 4, ("fsize", ""))
    return steps


def fast_steps(server: bool = False) -> list[tuple[str, str]]:
    """The fast part (`make test`): every kind of writer killed at a named point, and one full disk."""
    steps = [(op, f"{point}=kill" if point else "") for op, point in FAST]
    return steps + ([("server_upload", "store.before_switch=kill")] if server else [])


def run_matrix(steps: list[tuple[str, str]] | None = None, kills: int = 55, seed: int = 7, server: bool = True,
               workdir: Path | None = None, log=print) -> Tally:  # fmt: skip
    """Run `steps` ((writer, rule) pairs), or a seeded plan until `kills` SIGKILLs have landed."""
    rng = random.Random(seed)
    fixed = steps is not None
    steps = steps if fixed else plan(rng, kills, server)
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="crash-matrix-", dir=workdir) as tmp:
        ws = Workspace(Path(tmp), rng)
        first = ws.run(_cli("ingest", str(ws.next_faq()), str(ws.next_policy())))
        assert first.returncode == 0, first.stderr
        live = json.loads(ws.run(_drive("verify")).stdout.strip().splitlines()[-1])["sources"]
        for op, rule in steps:
            if not fixed and len(tally.kills) >= kills:
                break
            if op == "delete" and len(live) < 2:
                op, rule = "ingest", f"{POINTS['ingest'][0]}=kill"
            outcome = run_scenario(ws, op, rule, live)
            tally.outcomes.append(outcome)
            status = "killed" if outcome.killed else ("finished" if op != "fsize" else "limited")
            verdict = "OK" if outcome.ok else "FAILED: " + "; ".join(outcome.problems)
            rebuilt = " rebuilt" if outcome.recovered else ""
            log(f"{len(tally.kills):3d} {op:13s} {rule:42s} {status:8s} open {outcome.open_seconds:5.2f} s{rebuilt}")
            log(f"    {verdict}{' (' + outcome.why + ')' if outcome.recovered else ''}")
    return tally


# -- child-process drivers ------------------------------------------------------------------------------------
def _drive_main(args: list[str]) -> int:
    from base.settings import get_settings
    from services.knowledge import KnowledgeBase

    kb = KnowledgeBase(get_settings())
    command = args[0]
    if command == "upload":
        from services.uploads import ingest_uploads

        outcomes = ingest_uploads(kb, [(Path(p).name, Path(p).read_bytes()) for p in args[1:]])
        return 0 if all(o.status != "rejected" for o in outcomes) else 1
    if command == "add_answer":
        from services.uploads import add_faq_entry

        return 0 if add_faq_entry(kb, args[1], args[2]).status != "rejected" else 1
    if command == "verify":
        print(json.dumps(verify(kb)))
        return 0
    raise SystemExit(f"unknown drive command {command}")


def verify(kb) -> dict:
    """Open the store as a restarted app would, then check it is whole (see module docstring)."""
    import hashlib

    from vectorstore.views import chunk_ids_for, embed_chunks

    t0 = time.perf_counter()
    events_before = len(kb.events(1000))
    health = kb.health()
    opened = time.perf_counter() - t0
    problems = (
        [] if health.status == "ok" else [f"{UNREADABLE}the store did not open: {health.status}: {health.detail}"]
    )
    sources: dict[str, str] = {}
    unlinked = 0
    for info in kb.store.list_sources(with_ids=True):
        sources[info.source] = info.sha256
        copy = kb.store.files_dir / info.source
        if not copy.is_file() or hashlib.sha256(copy.read_bytes()).hexdigest() != info.sha256:
            problems.append(f"{HALF}{info.source}: its kept copy is not the live version")
            continue
        docs = kb.parse(copy).docs
        if chunk_ids_for(docs) != info.chunk_ids:
            problems.append(f"{HALF}{info.source}: the live chunks are not one whole version of the file")
            continue
        if problems:
            continue
        in_index = set(kb.store.collection().get(ids=info.chunk_ids, include=[])["ids"])
        if in_index != set(info.chunk_ids):
            problems.append(f"{UNREADABLE}{info.source}: the index lacks {len(set(info.chunk_ids) - in_index)} chunks")
        source_unlinked = 0
        for doc, cid in list(zip(docs, info.chunk_ids, strict=True))[:: max(1, len(docs) // 5)][:5]:
            # Its own vector: a chunk the graph lost is never returned, at any k. HNSW is approximate, and among
            # ~1,500 near-identical hashing-fake test vectors a small cluster (the policy's chunks) can be missed at
            # k=20 and even at k=200 (seen twice in one CI run, on a rebuilt index); a search for as many results as
            # the collection holds walks the whole graph (the store's own check, vectorstore/recovery.py).
            vector = embed_chunks(kb.embeddings, [doc])[0]
            ks = (20, 200, max(200, kb.store.collection().count()))
            if any(cid in {h.id for h in kb.store.search_by_vector(vector, k)} for k in ks):
                continue
            # Still unfound: HNSW can leave a node no other node links to, which no query returns at any k, not even
            # one for its own vector. Among these hashing-fake vectors, after one FAQ update: 1-3 such chunks of
            # ~1,500 in 18 of 20 opens (Chroma re-inserts the writes since its last index save, up to 1,000, at
            # every open, in parallel, so which ones varies between opens of one store); one failed a CI run.
            # MiniLM vectors of the demo store, and of the 10,000-product bench catalogue before and after a 5%
            # update: none. One such chunk per source, held whole by the index, is counted apart; one the index lacks
            # or holds with other numbers, or a second of the same source, is damage.
            if _held_whole(kb, cid, vector) and not source_unlinked:  # two of one source's samples: a torn graph
                source_unlinked = unlinked = unlinked + 1
                continue
            problems.append(f"{UNREADABLE}{info.source}: a search for one of its chunks did not find it")
            break
    events = kb.events(1000)
    new = [e.message for e in events[: len(events) - events_before] if e.kind == "recovered"]
    return {"ok": not problems, "problems": problems, "sources": sources, "recovered": bool(new), "open": opened,
            "why": " | ".join(new), "unlinked": unlinked}  # fmt: skip


def _held_whole(kb, chunk_id: str, vector: list[float]) -> bool:
    """The index holds `chunk_id` with the vector its text embeds to."""
    from vectorstore.recovery import same_vector

    got = kb.store.collection().get(ids=[chunk_id], include=["embeddings"])
    return list(got["ids"]) == [chunk_id] and same_vector(got["embeddings"][0], vector)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=55, help="SIGKILLs to land (the whole matrix)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--fast", action="store_true", help="11 kills at named points and a full disk")
    parser.add_argument("--no-server", action="store_true", help="leave out the Streamlit server kills")
    parser.add_argument("--out", type=Path, default=RESULTS, help="tally file (default bench/results/crash_matrix.txt)")
    parser.add_argument("--drive", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        return _drive_main(args.drive)
    t0 = time.perf_counter()
    steps = fast_steps(server=not args.no_server) if args.fast else None
    tally = run_matrix(steps, args.kills, args.seed, not args.no_server)
    header = [
        f"# python -m bench.crash_matrix{' --fast' if args.fast else ''} --seed {args.seed}"
        f"{'' if args.fast else f' --kills {args.kills}'}{' --no-server' if args.no_server else ''}",
        f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {time.perf_counter() - t0:.0f} s in all",
    ]
    text = "\n".join(header + tally.lines()) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0 if all(o.ok for o in tally.outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
