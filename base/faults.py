"""Named crash points, so crash tests reach an exact moment without sleeping.

Code that matters for crash safety calls `fault_point("store.before_switch")` at its delicate moments. In
production nothing is configured and the call is one dictionary lookup. A test or the crash matrix sets
``ASSISTANT_FAULTS`` in a child process's environment, e.g.::

    ASSISTANT_FAULTS="store.after_batch@3=kill"          # SIGKILL itself the 3rd time that point is reached
    ASSISTANT_FAULTS="store.after_batch=kill+0.05"       # start a 50 ms timer there, then SIGKILL (lands
                                                         # wherever the process is then, e.g. inside Chroma)
    ASSISTANT_FAULTS="parse.start=hang"                  # block forever (a parser that never finishes)
    ASSISTANT_FAULTS="store.before_switch=raise"         # raise FaultInjected (an I/O error mid-write)

Several rules are separated by commas. This is deliberately an environment variable and not a setting: it
is a test hook that must reach child processes (CLI, parser, Streamlit server), never configuration.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ENV = "ASSISTANT_FAULTS"


class FaultInjected(OSError):
    """The error a `raise` rule throws at its point (an OSError, like a failing disk)."""


@dataclass(frozen=True)
class Rule:
    point: str
    occurrence: int
    action: str  # kill | hang | raise
    delay: float = 0.0


def parse_rules(spec: str) -> dict[str, Rule]:
    """`point[@n]=action[+seconds]`, comma-separated; malformed rules are an error (a typo must not pass)."""
    rules: dict[str, Rule] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        target, _, action = part.partition("=")
        point, _, nth = target.partition("@")
        action, _, delay = action.partition("+")
        if not point or action not in ("kill", "hang", "raise") or (delay and action != "kill"):
            raise ValueError(f"bad {ENV} rule {part!r} (point[@n]=kill[+seconds]|hang|raise)")
        rules[point] = Rule(point, int(nth or 1), action, float(delay or 0))
    return rules


_RULES = parse_rules(os.environ.get(ENV, ""))
_seen: Counter[str] = Counter()
_lock = threading.Lock()


@contextmanager
def injected(spec: str) -> Iterator[None]:
    """In-process rules for the duration of a `with` block (unit tests), instead of the environment."""
    global _RULES
    saved = _RULES
    with _lock:
        _RULES = parse_rules(spec)
        _seen.clear()
    try:
        yield
    finally:
        with _lock:
            _RULES = saved
            _seen.clear()


def fault_point(name: str) -> None:
    """Mark a crash-relevant moment; does nothing unless a rule for `name` is configured."""
    rule = _RULES.get(name)
    if rule is None:
        return
    with _lock:
        _seen[name] += 1
        if _seen[name] != rule.occurrence:
            return
    if rule.action == "raise":
        raise FaultInjected(f"fault injected at {name}")
    if rule.action == "hang":
        while True:
            time.sleep(3600)
    if rule.delay:
        threading.Timer(rule.delay, _kill).start()
    else:
        _kill()


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
