"""Does each piece of the crash recovery have a test that notices when it is gone? Removes one piece at a time
(a small source edit, always restored), runs the recovery tests and the fast crash matrix, and prints which
tests failed. Every line must say "caught by".

    python -m bench.crash_mutations        # ~5 min; results in bench/results/crash_mutations.txt
"""

from __future__ import annotations

import subprocess
import sys

from base.paths import ROOT

RESULTS = ROOT / "bench" / "results" / "crash_mutations.txt"
TESTS = ["tests/unit/test_recovery.py", "tests/integration/test_crash_matrix.py"]

# name: (file, text, replacement) — each removes one recovery behaviour the README claims.
MUTATIONS = {
    "no rebuild of a torn index": (
        "vectorstore/store.py",
        "                report = rebuild_index(self.dir, self.manifest, self.collection_name, self.embedding_id)",
        "                raise RebuildError('mutation: no rebuild')",
    ),
    "no check in a child after a process died": (
        "vectorstore/store.py",
        "        checked = bool(stale) or self._suspect",
        "        checked = self._suspect",
    ),
    "no cleanup after a writer died": (
        "vectorstore/store.py",
        "        if stale and not live and self._marker.exists():",
        "        if False:",
    ),
    "no repair of an interrupted reindex swap": (
        "services/knowledge.py",
        "        if self.store_dir.exists():\n            return\n        staging, backup",
        "        return\n        staging, backup",
    ),
    "no chunk copies in the manifest": (
        "vectorstore/manifest.py",
        '            con.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?)", rows)',
        "            pass",
    ),
    "no check that search reaches every chunk": (
        "vectorstore/recovery.py",
        '    if len(res["ids"][0]) < total:',
        "    if False:",
    ),
    "no second try after a failed read": (
        "vectorstore/store.py",
        '        attempts = 2 if kind == "read" else 1',
        "        attempts = 1",
    ),
}


def main() -> int:
    lines = []
    for name, (rel, old, new) in MUTATIONS.items():
        path = ROOT / rel
        source = path.read_text(encoding="utf-8")
        if old not in source:
            lines.append(f"{name}: the code to remove was not found (update this script)")
            continue
        path.write_text(source.replace(old, new, 1), encoding="utf-8")
        try:
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=1800,
            )
        finally:
            path.write_text(source, encoding="utf-8")
        failed = [line.split(" ")[1].split("::")[-1] for line in run.stdout.splitlines() if line.startswith("FAILED")]
        lines.append(f"{name}: " + (f"caught by {len(failed)}: {', '.join(failed)}" if failed else "NOT CAUGHT"))
        print(lines[-1], flush=True)
    RESULTS.write_text("# python -m bench.crash_mutations\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return 0 if all("caught by" in line for line in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
