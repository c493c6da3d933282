"""Scale-out on a real Redis server (Debian's redis-server on a free loopback port): the state and limit contracts on
Redis, and two API worker processes behind no sticky balancer (the test alternates between them) that resolve a
follow-up asked on the other worker and enforce one shared rate limit."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from child_env import child_env
from contracts import ConversationStateContract, KeyValueContract, LimitsContract
from local_servers import free_port, serve

from base.kv import RedisKV
from base.paths import ROOT
from base.settings import Settings
from services.knowledge import KnowledgeBase

pytestmark = pytest.mark.integration
REDIS = shutil.which("redis-server")


@pytest.fixture(scope="module")
def redis_url():
    if REDIS is None:
        pytest.fail("redis-server is not installed (make redis)")
    port = free_port()
    argv = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    url = f"redis://127.0.0.1:{port}/0"

    def ready() -> bool:
        try:
            return RedisKV(url).ping()
        except Exception:
            return False

    with serve(argv, ready, "redis-server", timeout=60):
        yield url


class OnRedis:
    @pytest.fixture
    def kv(self, redis_url: str) -> RedisKV:
        return RedisKV(redis_url, prefix=f"test-{uuid.uuid4().hex}:")  # a fresh namespace per test


class TestRedisKV(OnRedis, KeyValueContract):
    pass


class TestRedisLimits(OnRedis, LimitsContract):
    pass


class TestRedisConversationState(OnRedis, ConversationStateContract):
    pass


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _api_key(env: dict) -> str:
    made = subprocess.run(
        [sys.executable, "cli.py", "api-key", "create", "shop"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def test_two_workers_share_one_conversation_and_one_limit(tmp_path: Path, redis_url: str) -> None:
    kb = KnowledgeBase(Settings())  # the fake embedder and the tmp_path store of tests/conftest.py
    assert kb.ingest_paths([ROOT / "data/faq/store_faq.json", ROOT / "data/products.csv"]).ok
    kb.store.close()
    env = child_env(
        ASSISTANT_DECLINE_THRESHOLDS='{"en": 0.3, "es": 0.3}',
        ASSISTANT_REDIS_URL=redis_url,
        ASSISTANT_API_RATE_PER_MINUTE="6",
    )
    key = _api_key(env)
    headers = {"Authorization": f"Bearer {key}"}
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    first = [sys.executable, "cli.py", "serve", "--port", str(ports[0])]
    second = [sys.executable, "cli.py", "serve", "--port", str(ports[1])]
    with (
        serve(first, lambda: _ready(bases[0]), "worker 1", timeout=180, cwd=ROOT, env=env),
        serve(second, lambda: _ready(bases[1]), "worker 2", timeout=180, cwd=ROOT, env=env),
    ):

        def chat(worker: int, message: str, conversation: str | None = None) -> httpx.Response:
            body = {"message": message, "stream": False, "conversation_id": conversation}
            return httpx.post(f"{bases[worker]}/v1/chat", json=body, headers=headers, timeout=60)

        opened = chat(0, "How much is the Copperleaf 10-inch Cast Iron Skillet?")
        assert opened.status_code == 200, opened.text
        cid = opened.json()["conversation_id"]
        assert opened.json()["sources"][0]["title"].startswith("Copperleaf 10-inch Cast Iron Skillet")
        follow = chat(1, "is it in stock?", cid)  # the other worker: it knows the conversation and its topic
        assert follow.status_code == 200, follow.text
        assert follow.json()["sources"][0]["title"].startswith("Copperleaf 10-inch Cast Iron Skillet")
        rated = httpx.post(
            f"{bases[0]}/v1/feedback",
            json={"conversation_id": cid, "interaction_id": follow.json()["interaction_id"], "rating": 1},
            headers=headers,
            timeout=30,
        )
        assert rated.status_code == 204, rated.text  # an answer given by worker 2 is rated on worker 1

        statuses = [chat(n % 2, "Do gift cards expire?", cid).status_code for n in range(6)]
        # 6 per minute per key and IP, counted once across both workers: 3 calls were made above.
        assert statuses.count(200) == 3 and statuses[3:] == [429, 429, 429]


def test_several_workers_without_redis_are_refused_with_the_reason() -> None:
    done = subprocess.run(
        [sys.executable, "cli.py", "serve", "--workers", "2"], cwd=ROOT, env=child_env(), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "ASSISTANT_REDIS_URL" in done.stderr
