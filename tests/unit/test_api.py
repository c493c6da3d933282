"""The REST API through FastAPI's TestClient: streaming and JSON answers, conversations bound to their channel,
keys (hashed), origins, validation errors, limits, and no stack trace ever reaching a client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import faq_store

from api.app import create_app
from services.api_keys import ApiKeyError, ApiKeys
from services.assistant import Assistant
from services.conversation_log import ConversationLog

ORIGIN = "https://shop.example"


def _make(tmp_path: Path, **overrides) -> tuple[TestClient, str, Assistant]:
    values = dict(
        decline_thresholds={"en": 0.3, "es": 0.3}, api_allowed_origins=[ORIGIN], api_keys_file=tmp_path / "keys.json"
    )
    settings, kb = faq_store(tmp_path, **(values | overrides))
    bot = Assistant(settings, kb, log=ConversationLog(tmp_path / "log.sqlite3"))
    key = ApiKeys(settings.api_keys_file).create("shop-backend")
    return TestClient(create_app(settings, bot)), key, bot


@pytest.fixture
def api(tmp_path: Path) -> tuple[TestClient, str, Assistant]:
    return _make(tmp_path)


def _events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_chat_streams_text_then_the_sources_and_continues_the_conversation(api) -> None:
    client, key, bot = api
    auth = {"Authorization": f"Bearer {key}"}
    with client.stream("POST", "/v1/chat", json={"message": "Do gift cards expire?"}, headers=auth) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.read().decode())
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "delta" in kinds
    done = events[-1][1]
    assert "".join(d["text"] for k, d in events if k == "delta") == done["answer"]
    assert "expire" in done["answer"].lower() and done["sources"][0]["source"] == "store_faq.json"
    assert done["conversation_id"].startswith("c_") and len(done["conversation_id"]) > 30
    follow = client.post(
        "/v1/chat",
        headers=auth,
        json={"conversation_id": done["conversation_id"], "message": "and gift card fees?", "stream": False},
    )
    assert follow.status_code == 200 and follow.json()["conversation_id"] == done["conversation_id"]
    assert len(bot.conversations.history(done["conversation_id"])) == 2
    rated = client.post(
        "/v1/feedback",
        headers=auth,
        json={"conversation_id": done["conversation_id"], "interaction_id": done["interaction_id"], "rating": 1},
    )
    assert rated.status_code == 204
    assert bot.log.rows()[0]["rating"] == 1


def test_a_conversation_is_bound_to_the_channel_that_opened_it(api) -> None:
    client, key, _bot = api
    opened = client.post(
        "/v1/chat",
        headers={"Authorization": f"Bearer {key}"},
        json={"message": "Do gift cards expire?", "stream": False},
    ).json()
    other = client.post(
        "/v1/chat",
        headers={"Origin": ORIGIN},
        json={"conversation_id": opened["conversation_id"], "message": "what did I ask?", "stream": False},
    )
    assert other.status_code == 404 and other.json() == {
        "error": "unknown conversation; omit conversation_id to start a new one"
    }
    made_up = client.post(
        "/v1/chat",
        headers={"Origin": ORIGIN},
        json={"conversation_id": "c_" + "A" * 32, "message": "hi", "stream": False},
    )
    assert made_up.json() == other.json()  # a foreign id looks exactly like one that never existed
    rating = client.post(
        "/v1/feedback",
        headers={"Origin": ORIGIN},
        json={"conversation_id": opened["conversation_id"], "interaction_id": opened["interaction_id"], "rating": 0},
    )
    assert rating.status_code == 404


def test_callers_need_a_valid_key_or_an_allowed_origin(api) -> None:
    client, _key, _bot = api
    body = {"message": "Do gift cards expire?", "stream": False}
    assert client.post("/v1/chat", json=body).status_code == 401
    assert client.post("/v1/chat", json=body, headers={"Authorization": "Bearer hp_wrong"}).json() == {
        "error": "invalid API key"
    }
    assert client.post("/v1/chat", json=body, headers={"Origin": "https://evil.example"}).status_code == 401
    assert client.post("/v1/chat", json=body, headers={"Origin": ORIGIN}).status_code == 200
    preflight = client.options(
        "/v1/chat",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    refused = client.options(
        "/v1/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in refused.headers


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message: the message is empty"),
        ({"message": "x" * 1001}, "message"),
        ({"message": "hi", "extra": 1}, "extra"),
        ({}, "message"),
    ],
)
def test_bad_chat_input_is_a_clear_4xx(api, body: dict, fragment: str) -> None:
    client, key, _bot = api
    response = client.post("/v1/chat", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422 and fragment in response.json()["error"]


def test_search_validates_k_and_returns_hits(api) -> None:
    client, key, _bot = api
    auth = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/search", params={"q": "gift cards", "k": 0}, headers=auth).status_code == 422
    assert client.get("/v1/search", params={"q": "gift cards", "k": 21}, headers=auth).status_code == 422
    hits = client.get("/v1/search", params={"q": "gift cards", "k": 2}, headers=auth).json()["hits"]
    assert len(hits) == 2 and hits[0]["n"] == 1


def test_limits_size_rate_and_concurrency(tmp_path: Path) -> None:
    client, key, _bot = _make(tmp_path, api_rate_per_minute=3, api_max_concurrent=1, api_max_body_bytes=2048)
    auth = {"Authorization": f"Bearer {key}"}
    big = client.post("/v1/chat", headers=auth, content=b'{"message": "' + b"a" * 4000 + b'"}')
    assert big.status_code == 413 and "larger than 2048 bytes" in big.json()["error"]
    for _ in range(3):  # the refused oversized request was never counted
        assert client.get("/v1/search", params={"q": "x"}, headers=auth).status_code == 200
    limited = client.get("/v1/search", params={"q": "x"}, headers=auth)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    client2, key2, _ = _make(tmp_path / "b", api_max_concurrent=1)
    with client2.stream(
        "POST", "/v1/chat", json={"message": "Do gift cards expire?"}, headers={"Authorization": f"Bearer {key2}"}
    ) as first:
        assert first.status_code == 200  # holds the only slot until its stream is read
        busy = client2.post(
            "/v1/chat", json={"message": "hi", "stream": False}, headers={"Authorization": f"Bearer {key2}"}
        )
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
        first.read()
    again = client2.post(
        "/v1/chat", json={"message": "hi", "stream": False}, headers={"Authorization": f"Bearer {key2}"}
    )
    assert again.status_code == 200


def test_an_internal_error_is_json_without_a_trace(api, monkeypatch: pytest.MonkeyPatch) -> None:
    client, key, bot = api

    def broken(*_a, **_k):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(bot, "ask_stream", broken)
    client = TestClient(client.app, raise_server_exceptions=False)
    response = client.post(
        "/v1/chat", json={"message": "hi", "stream": False}, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 500 and response.json() == {"error": "internal error"}
    assert "passwd" not in response.text


def test_health_readiness_and_openapi(api) -> None:
    client, _key, _bot = api
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.app.state.warm.wait(60)  # the warm-up search runs in a thread
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    schema = client.get("/openapi.json").json()
    assert {"/v1/chat", "/v1/search", "/v1/feedback", "/healthz", "/readyz"} <= set(schema["paths"])


def test_api_keys_are_stored_as_hashes_and_revocable(tmp_path: Path) -> None:
    keys = ApiKeys(tmp_path / "keys.json")
    key = keys.create("crm")
    assert key.startswith("hp_") and key not in (tmp_path / "keys.json").read_text()
    assert keys.verify(key) == "crm" and keys.verify(key + "x") is None
    with pytest.raises(ApiKeyError, match="exists"):
        keys.create("crm")
    with pytest.raises(ApiKeyError, match="name"):
        keys.create("bad name!")
    keys.revoke("crm")
    assert keys.verify(key) is None and keys.list() == []


def test_order_status_over_the_api_answers_only_the_verified_owner_and_logs_no_details(tmp_path: Path) -> None:
    from services.orders import OrderDesk, SqliteOrders, demo_orders

    client, key, bot = _make(tmp_path)
    table = SqliteOrders(tmp_path / "orders.sqlite3")
    orders = demo_orders(40)
    table.put(orders)
    bot.orders = OrderDesk(table, {"email": "s@x.example", "phone": "1", "hours": "9-5"})
    order = next(o for o in orders if o.status == "shipped")
    auth = {"Authorization": f"Bearer {key}"}
    first = client.post("/v1/chat", headers=auth, json={"message": "where is my order?", "stream": False}).json()
    assert "order number" in first["answer"] and first["model"] == "orders" and first["sources"] == []
    conversation = {"conversation_id": first["conversation_id"], "stream": False}
    second = client.post("/v1/chat", headers=auth, json={**conversation, "message": order.number}).json()
    assert "email" in second["answer"]
    third = client.post("/v1/chat", headers=auth, json={**conversation, "message": order.email}).json()
    assert order.tracking in third["answer"] and order.street not in third["answer"]
    turns = bot.conversations.history(first["conversation_id"])
    remembered = " ".join(f"{t.question} {t.answer}" for t in turns)
    logged = " ".join(f"{r['question']} {r['answer']}" for r in bot.log.rows())
    for secret in (order.tracking, order.number, order.email):  # neither the order's nor the customer's details
        assert secret not in remembered and secret not in logged  # ever reach a chat model's history or the log


def test_a_streamed_oversized_body_is_413_and_widget_callers_share_no_rate_bucket(tmp_path: Path) -> None:
    client, key, _bot = _make(tmp_path, api_max_body_bytes=2048, api_rate_per_minute=2, login_trust_forwarded_for=True)

    def chunks():
        yield b'{"message": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'"}'

    response = client.post(
        "/v1/chat", headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}, content=chunks()
    )
    assert response.status_code == 413 and "larger than 2048 bytes" in response.json()["error"]
    # Visitors of the widget's origin (behind a trusted proxy) each get their own budget: one cannot use up the
    # site's, and a client-written X-Forwarded-For entry does not buy a new one.
    for ip in ("198.51.100.1", "198.51.100.2"):
        for _ in range(2):
            ok = client.get("/v1/search", params={"q": "x"}, headers={"Origin": ORIGIN, "X-Forwarded-For": ip})
            assert ok.status_code == 200
    spoofed = {"Origin": ORIGIN, "X-Forwarded-For": "1.2.3.4, 198.51.100.1"}
    assert client.get("/v1/search", params={"q": "x"}, headers=spoofed).status_code == 429


def test_a_slot_is_given_back_when_the_client_goes_away(tmp_path: Path) -> None:
    client, key, _bot = _make(tmp_path / "s", api_max_concurrent=1)
    auth = {"Authorization": f"Bearer {key}"}
    for _ in range(3):  # open a stream and drop it without reading: the slot must come back each time
        with client.stream("POST", "/v1/chat", json={"message": "Do gift cards expire?"}, headers=auth) as r:
            assert r.status_code == 200
    assert client.post("/v1/chat", json={"message": "hi", "stream": False}, headers=auth).status_code == 200
