"""Which client a request comes from, for the limits that count per client (sign-ins, API rate, order checks)."""

from __future__ import annotations


def client_address(forwarded_for: str | None, peer: str | None, trust_forwarded: bool) -> str:
    """The client's IP: the peer's address, or, behind a trusted reverse proxy, the last X-Forwarded-For entry, the
    one that proxy appended. The entries before it are written by the client and can be anything, so they are never
    used: a client that rotates them must not get a fresh limit each time."""
    if trust_forwarded and forwarded_for:
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return peer or "unknown"
