"""Errors every layer may raise or catch (front ends catch them without importing the store)."""

from __future__ import annotations


class StoreError(Exception):
    """The store cannot be used as configured (e.g. it was built with another embedding model)."""


class StoreUnavailable(StoreError):
    """The search index cannot serve right now: it failed and is being checked, or it could not be repaired."""


class StoreRecovering(StoreUnavailable):
    """The index is being rebuilt after a crash; it serves again in a moment."""


class StoreWriteError(StoreError):
    """A write failed part-way (disk full, I/O error, Chroma refused it); the live version is unchanged."""
