"""Contract tests for the interfaces with several implementations, in the style of Haystack's document-store tests:
one class per contract; each implementation's test class inherits it and provides the fixture (`kv`: a fresh
backend). The in-process backend runs them in tests/unit, Redis in tests/integration."""

from __future__ import annotations

import threading
import time

import pytest

from base.limits import SlidingWindow
from chains.memory import Turn
from chains.product_query import ProductQuery
from services.auth import LoginLimiter
from services.conversations import ConversationRegistry
from services.state import ConversationStore


def _until(check, seconds: float = 30.0) -> bool:
    """Poll `check` until true (an expiry is the backend's to apply, at its own pace)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


class KeyValueContract:
    """base/kv.py's KeyValue: JSON values, atomic read-modify-write, delete, idle expiry."""

    @pytest.fixture
    def kv(self):
        raise NotImplementedError

    def test_values_round_trip_as_json(self, kv) -> None:
        assert kv.get("a") is None
        assert kv.update("a", lambda old: ({"n": 1, "list": [1.5, "x"], "none": None}, "returned"), 60) == "returned"
        assert kv.get("a") == {"n": 1, "list": [1.5, "x"], "none": None}

    def test_update_sees_the_old_value_and_none_deletes(self, kv) -> None:
        kv.update("c", lambda old: (1, None), 60)
        assert kv.update("c", lambda old: (old + 1, old), 60) == 1 and kv.get("c") == 2
        kv.update("c", lambda old: (None, None), 60)
        assert kv.get("c") is None

    def test_delete_many(self, kv) -> None:
        for key in ("x", "y", "z"):
            kv.update(key, lambda old: (True, None), 60)
        kv.delete("x", "y", "never-there")
        assert (kv.get("x"), kv.get("y"), kv.get("z")) == (None, None, True)

    def test_a_key_expires_after_its_ttl(self, kv) -> None:
        kv.update("short", lambda old: ("v", None), 0.05)
        kv.update("long", lambda old: ("v", None), 600)
        assert _until(lambda: kv.get("short") is None)
        assert kv.get("long") == "v"

    def test_concurrent_updates_are_not_lost(self, kv) -> None:
        def add() -> None:
            for _ in range(50):
                kv.update("counter", lambda old: ((old or 0) + 1, None), 60)

        threads = [threading.Thread(target=add) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert kv.get("counter") == 200


class LimitsContract:
    """The shared limits on one backend: two limiter objects on one `kv` (two workers) enforce one limit."""

    @pytest.fixture
    def kv(self):
        raise NotImplementedError

    def test_a_sliding_window_is_shared_by_two_workers(self, kv) -> None:
        now = [1000.0]
        first = SlidingWindow(2, 60, kv, name="calls", clock=lambda: now[0])
        second = SlidingWindow(2, 60, kv, name="calls", clock=lambda: now[0])
        assert first.take("ip:1") == 0 and second.take("ip:1") == 0
        assert first.take("ip:1") > 0 and second.take("ip:1") > 0  # the third call is refused on either worker
        assert second.take("ip:2") == 0  # other clients unaffected
        now[0] += 60
        assert second.take("ip:1") == 0

    def test_reserve_counts_on_every_key_or_none_and_refund_takes_back(self, kv) -> None:
        now = [0.0]
        window = SlidingWindow(2, 900, kv, name="failures", clock=lambda: now[0])
        assert window.reserve("conversation:a", "order:1") and window.reserve("conversation:a", "order:1")
        assert window.blocked("order:1") and not window.reserve("conversation:b", "order:1")
        assert not window.blocked("conversation:b")  # the refused reservation left nothing behind
        window.refund("order:1")
        assert not window.blocked("order:1") and window.blocked("conversation:a")

    def test_parallel_reservations_never_pass_the_limit(self, kv) -> None:
        window = SlidingWindow(5, 900, kv, name="failures")
        passed: list[bool] = []
        threads = [threading.Thread(target=lambda: passed.append(window.reserve("order:9"))) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert passed.count(True) == 5

    def test_a_sign_in_lockout_holds_on_the_other_worker(self, kv) -> None:
        import bcrypt

        hashed = bcrypt.hashpw(b"the-right-one", bcrypt.gensalt(rounds=4)).decode()
        first = LoginLimiter(max_failures=2, lockout_seconds=30, kv=kv)
        second = LoginLimiter(max_failures=2, lockout_seconds=30, kv=kv)
        assert first.attempt("ip", "wrong", hashed).left == 1
        assert second.attempt("ip", "wrong again", hashed).wait == 30  # the second failure, on the other worker
        assert first.attempt("ip", "the-right-one", hashed).outcome == "locked" and second.wait_seconds("ip") > 0


class ConversationStateContract:
    """services/state.py on one backend: the state of a conversation is the same whichever worker reads it."""

    @pytest.fixture
    def kv(self):
        raise NotImplementedError

    def test_state_round_trips_and_expires_whole(self, kv) -> None:
        store = ConversationStore(kv, ttl=600, max_turns=2)
        for n in range(3):
            store.add_turn("c1", Turn(f"q{n}", f"a{n}", "Tent"))
        state = store.load("c1")
        state.filters, state.shown_prices = ProductQuery(terms=["tent"], max_price=300.0), [199.0]
        state.order.number, state.handoff.declines = "HP-1001", 1
        store.save_desks("c1", state)
        other = ConversationStore(kv, ttl=600, max_turns=2)  # another worker
        again = other.load("c1")
        assert [t.question for t in again.turns] == ["q1", "q2"]  # at most max_turns, oldest trimmed
        assert again.filters == ProductQuery(terms=["tent"], max_price=300.0) and again.shown_prices == [199.0]
        assert (again.order.number, again.handoff.declines) == ("HP-1001", 1)
        other.forget(["c1"])
        assert store.load("c1").turns == [] and not store.exists("c1")

    def test_an_idle_conversation_is_forgotten_whole(self, kv) -> None:
        store = ConversationStore(kv, ttl=0.05)
        store.add_turn("idle", Turn("q", "a"))
        assert _until(lambda: not store.exists("idle"))

    def test_api_conversations_belong_to_their_channel_on_every_worker(self, kv) -> None:
        one, two = ConversationRegistry(ConversationStore(kv)), ConversationRegistry(ConversationStore(kv))
        cid = one.open("key:shop")
        assert two.resume(cid, "key:shop") and not two.resume(cid, "key:other") and not two.resume("c_nope", "key:shop")
        two.add_interaction(cid, 41)
        assert one.owns(cid, "key:shop", 41) and not one.owns(cid, "key:other", 41) and not one.owns(cid, "key:shop", 7)


class OrderSourceContract:
    """services/orders.py OrderSource: an order by its number, None for an unknown one; the desk verifies on it.
    Fixture `source`: a source holding `ORDERS` (demo orders)."""

    @pytest.fixture
    def source(self):
        raise NotImplementedError

    def test_a_known_order_is_returned_whole_and_an_unknown_one_is_none(self, source) -> None:
        from services.orders import demo_orders

        order = demo_orders(5)[2]
        assert source.get(order.number) == order
        assert source.get("HP-000000") is None

    def test_the_desk_verifies_the_owner_on_it(self, source) -> None:
        from services.orders import OrderDesk, demo_orders

        order = demo_orders(5)[1]
        desk = OrderDesk(source, {"email": "help@shop.example", "phone": "1", "hours": "always"})
        assert desk.reply("c", f"order {order.number} {order.email}").verified
        assert not desk.reply("d", f"order {order.number} someone.else@example.com").verified


class EmbeddingsContract:
    """LangChain `Embeddings` as the store uses them: one vector per text, all of one length, queries comparable to
    documents, the same text always the same vector. Fixture `embeddings`."""

    @pytest.fixture
    def embeddings(self):
        raise NotImplementedError

    def test_one_vector_per_text_of_one_length(self, embeddings) -> None:
        docs = embeddings.embed_documents(["Gift cards never expire.", "We ship to Canada.", "¿Envían a México?"])
        query = embeddings.embed_query("Do gift cards expire?")
        assert len(docs) == 3 and len({len(v) for v in docs}) == 1 and len(query) == len(docs[0]) > 0
        assert all(isinstance(x, float) for x in query)

    def test_the_same_text_gives_the_same_vector(self, embeddings) -> None:
        import numpy as np

        first, again = embeddings.embed_documents(["Returns within 30 days.", "Returns within 30 days."])
        assert np.allclose(first, again, atol=1e-5)

    def test_an_identical_query_is_closest_to_its_own_document(self, embeddings) -> None:
        import numpy as np

        texts = ["Gift cards never expire.", "Standard shipping takes 3 to 5 business days.", "Tents and sleeping bags"]
        docs = np.array(embeddings.embed_documents(texts))
        query = np.array(embeddings.embed_query(texts[1]))
        cosine = docs @ query / (np.linalg.norm(docs, axis=1) * np.linalg.norm(query))
        assert int(np.argmax(cosine)) == 1


class KnowledgeStoreContract:
    """The knowledge store on one Chroma (embedded in a folder, or a `chroma run` server): ingest, search, an
    unchanged re-upload, delete. Fixture `settings`: Settings for a fresh store (the fake embedder)."""

    @pytest.fixture
    def settings(self):
        raise NotImplementedError

    def test_ingest_search_reupload_and_delete(self, settings) -> None:
        from base.paths import ROOT
        from providers.embeddings import HashingEmbeddings
        from services.knowledge import KnowledgeBase

        kb = KnowledgeBase(settings, embeddings=HashingEmbeddings())
        faq = ROOT / "data/faq/store_faq.json"
        first = kb.ingest_paths([faq])
        assert first.ok and first.done[0].chunks > 0
        assert any("gift" in h.metadata["doc_id"] for h in kb.search("Do gift cards expire?", 3))
        again = kb.ingest_paths([faq])
        assert again.ok and again.done[0].status == "unchanged"
        assert kb.delete("store_faq.json") == first.done[0].chunks
        assert kb.search("Do gift cards expire?", 3) == []
