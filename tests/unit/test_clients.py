"""Which client a request comes from: behind a trusted proxy, only the address that proxy appended counts."""

from __future__ import annotations

from base.clients import client_address


def test_the_proxy_s_own_entry_is_used_and_client_written_ones_are_not() -> None:
    assert client_address("6.6.6.6, 203.0.113.7", "10.0.0.1", trust_forwarded=True) == "203.0.113.7"
    assert client_address("1.1.1.1, 2.2.2.2, 203.0.113.7", "10.0.0.1", trust_forwarded=True) == "203.0.113.7"
    assert client_address("203.0.113.7", "10.0.0.1", trust_forwarded=False) == "10.0.0.1"  # not behind a proxy
    assert client_address(None, "10.0.0.1", trust_forwarded=True) == "10.0.0.1"
    assert client_address(" , ", None, trust_forwarded=True) == "unknown"
