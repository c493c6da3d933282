"""The environment of every subprocess a test starts (CLI, Streamlit, parser, probe): scrubbed.

Only the machine's basics and the test's own ``ASSISTANT_*`` settings (set by the root conftest) pass; no
API key, no proxy, nothing from the developer's shell, and no dotenv file (``ASSISTANT_ENV_FILE`` empty).
"""

from __future__ import annotations

import os

_BASICS = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TERM", "TZ")


def child_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _BASICS or k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_ENV_FILE="", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.update(overrides)
    return env
