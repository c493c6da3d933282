"""The models loaded when the Streamlit server starts (`cli.py app`, `make run`), not when the first customer opens
the page: Streamlit runs the page scripts only once a browser connects, so the first customer used to wait for the
embedders, the store and the masker (18-21 s measured). `start` builds the assistant in a background thread of the
server process; `assistant()` in app_pages/resources.py takes it (waiting only for what is still loading)."""

from __future__ import annotations

import logging
import threading
import time

from base.settings import Settings
from services.assistant import Assistant, open_assistant

logger = logging.getLogger(__name__)
_thread: threading.Thread | None = None
_built: list[Assistant] = []


def start(settings: Settings) -> None:
    """Build and warm the assistant in the background (once per process)."""
    global _thread
    if _thread is not None:
        return

    def build() -> None:
        t0 = time.perf_counter()
        try:
            bot = open_assistant(settings, recover_in_background=True)
            bot.kb.search("hello", 1)  # loads the embedders and opens the index
            if bot.privacy is not None:
                bot.privacy.masker.warm()  # the log masks every answer: its models too
            _built.append(bot)
            print(f"assistant ready: models loaded in {time.perf_counter() - t0:.1f} s", flush=True)
        except Exception:  # the page builds its own and shows what went wrong
            logger.exception("preloading the assistant failed")

    _thread = threading.Thread(target=build, name="preload-assistant", daemon=True)
    _thread.start()


def take() -> Assistant | None:
    """The preloaded assistant (waiting for it to finish loading), or None when none was started or it failed."""
    if _thread is None:
        return None
    _thread.join()
    return _built[0] if _built else None
