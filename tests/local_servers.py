"""Start a project server as a subprocess on a free loopback port for a test, and always stop it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from child_env import child_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The flags that keep Debian's Chromium off the (closed) network and quiet in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A loopback port nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def serve(argv: list[str], ready: Callable[[], bool], what: str, timeout: float = 60, **popen_kw) -> Iterator[None]:
    """Run `argv` until the test ends; fail the test if `ready()` is not true within `timeout` seconds."""
    popen_kw.setdefault("env", child_env())
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen_kw)
    try:
        deadline = time.time() + timeout
        while not ready():
            if time.time() > deadline or proc.poll() is not None:
                pytest.fail(f"{what} did not start")
            time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
