"""Exercise the fake server with the real ``openai`` and ``langchain_openai`` clients.

If these pass, tests elsewhere can trust the fake to behave like the API for
the paths the assistant uses (chat, streaming, embeddings, fine-tuning, faults).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI, OpenAIEmbeddings

from .server import FakeOpenAIServer, embed_text

CHAT_MODEL = "gpt-4o-mini"
EMBED_MODEL = "text-embedding-3-small"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def fake(server: FakeOpenAIServer) -> FakeOpenAIServer:
    """The shared server with a fresh state for each test."""
    server.reset()
    return server


def make_client(fake: FakeOpenAIServer, **kwargs: object) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    return openai.OpenAI(base_url=fake.base_url, api_key="test", **kwargs)  # type: ignore[arg-type]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def training_jsonl(n: int = 3) -> bytes:
    lines = [
        {
            "messages": [
                {"role": "system", "content": "You are Harbor & Pine support."},
                {"role": "user", "content": f"Question {i} about returns?"},
                {
                    "role": "assistant",
                    "content": "You can return items within 30 days.",
                },
            ]
        }
        for i in range(n)
    ]
    return "\n".join(json.dumps(line) for line in lines).encode()


# --------------------------------------------------------------------------- chat


def test_chat_non_streaming(fake: FakeOpenAIServer) -> None:
    client = make_client(fake)
    resp = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Where is my order?"},
        ],
    )
    assert resp.object == "chat.completion"
    assert resp.model == CHAT_MODEL
    assert resp.choices[0].message.content == 'Fake reply to: "Where is my order?"'
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None and resp.usage.total_tokens > 0
    [(path, body)] = fake.state.requests
    assert path == "/v1/chat/completions"
    assert body["messages"][1]["content"] == "Where is my order?"


def test_chat_custom_responder(fake: FakeOpenAIServer) -> None:
    fake.state.chat_responder = lambda messages, model: f"{model}:{len(messages)}"
    resp = make_client(fake).chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}])
    assert resp.choices[0].message.content == f"{CHAT_MODEL}:1"


def test_chat_streaming_with_usage(fake: FakeOpenAIServer) -> None:
    fake.state.chat_responder = lambda m, model: "Standard shipping takes 3-5 days."
    stream = make_client(fake).chat.completions.create(
        model=CHAT_MODEL,
        messages=[{"role": "user", "content": "shipping?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Standard shipping takes 3-5 days."
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) > 3
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_chat_streaming_without_usage(fake: FakeOpenAIServer) -> None:
    stream = make_client(fake).chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = list(stream)
    assert all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_langchain_chat_invoke_and_stream(fake: FakeOpenAIServer) -> None:
    llm = ChatOpenAI(model=CHAT_MODEL, base_url=fake.base_url, api_key="test", max_retries=0)
    msgs = [SystemMessage("You are support."), HumanMessage("Can I cancel?")]
    result = llm.invoke(msgs)
    assert isinstance(result, AIMessage)
    assert result.content == 'Fake reply to: "Can I cancel?"'
    assert "".join(str(chunk.content) for chunk in llm.stream(msgs)) == result.content
    roles = [m["role"] for m in fake.state.bodies("/chat/completions")[0]["messages"]]
    assert roles[-1] == "user" and roles[0] in {"system", "developer"}


def test_langchain_async_invoke(fake: FakeOpenAIServer) -> None:
    llm = ChatOpenAI(model=CHAT_MODEL, base_url=fake.base_url, api_key="test", max_retries=0)
    result = asyncio.run(llm.ainvoke("async hello"))
    assert result.content == 'Fake reply to: "async hello"'


def test_langchain_tool_calls(fake: FakeOpenAIServer) -> None:
    @tool
    def order_status(order_id: str) -> str:
        """Look up an order."""
        return "shipped"

    def responder(messages: list[dict], model: str) -> dict:
        return {"tool_calls": [{"name": "order_status", "arguments": {"order_id": "HP-1"}}]}

    fake.state.chat_responder = responder
    llm = ChatOpenAI(model=CHAT_MODEL, base_url=fake.base_url, api_key="test", max_retries=0).bind_tools([order_status])
    msg = llm.invoke("Where is HP-1?")
    assert msg.tool_calls[0]["name"] == "order_status"
    assert msg.tool_calls[0]["args"] == {"order_id": "HP-1"}
    streamed = None
    for chunk in llm.stream("Where is HP-1?"):
        streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None and streamed.tool_calls[0]["args"] == {"order_id": "HP-1"}
    assert fake.state.bodies("/chat/completions")[0]["tools"][0]["function"]["name"] == ("order_status")


# --------------------------------------------------------------------- embeddings


def test_embeddings_shapes_and_determinism(fake: FakeOpenAIServer) -> None:
    client = make_client(fake)
    texts = ["Return policy for opened electronics", "Gift card balance"]
    first = client.embeddings.create(model=EMBED_MODEL, input=texts)  # base64 by default
    again = client.embeddings.create(model=EMBED_MODEL, input=texts, encoding_format="float")
    assert first.model == EMBED_MODEL
    assert [d.index for d in first.data] == [0, 1]
    assert first.usage.prompt_tokens > 0
    for a, b in zip(first.data, again.data, strict=True):
        assert len(a.embedding) == 64
        assert math.isclose(math.sqrt(sum(v * v for v in a.embedding)), 1.0, rel_tol=1e-5)
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    assert again.data[0].embedding == pytest.approx(embed_text(texts[0], 64))

    single = client.embeddings.create(model=EMBED_MODEL, input="hello", dimensions=16)
    assert len(single.data[0].embedding) == 16
    tokens = client.embeddings.create(model=EMBED_MODEL, input=[[1, 2, 3], [4, 5]])
    assert len(tokens.data) == 2
    fake.state.embedding_dim = 32
    assert len(client.embeddings.create(model=EMBED_MODEL, input="x").data[0].embedding) == 32
    assert fake.state.bodies("/embeddings")[0]["input"] == texts


def test_embeddings_reject_empty_input(fake: FakeOpenAIServer) -> None:
    with pytest.raises(openai.BadRequestError) as exc:
        make_client(fake).embeddings.create(model=EMBED_MODEL, input="")
    assert exc.value.body["param"] == "input"  # type: ignore[index]


def test_langchain_embeddings_similarity(fake: FakeOpenAIServer) -> None:
    emb = OpenAIEmbeddings(
        model=EMBED_MODEL,
        base_url=fake.base_url,
        api_key="test",
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    docs = [
        "Returns are accepted within 30 days of delivery with a free return label.",
        "Standard shipping takes 3-5 business days and is free on orders over $50.",
        "Gift cards never expire and cannot be returned.",
    ]
    doc_vecs = emb.embed_documents(docs)
    query = emb.embed_query("How many days do I have for returns?")
    assert len(doc_vecs) == 3 and all(len(v) == 64 for v in doc_vecs)
    assert emb.embed_query("How many days do I have for returns?") == query
    scores = [cosine(query, v) for v in doc_vecs]
    assert max(range(3), key=scores.__getitem__) == 0
    assert cosine(embed_text("free shipping"), embed_text("shipping is free")) > 0.99
    assert abs(cosine(embed_text("kayak paddle"), embed_text("invoice email"))) < 0.75


# ------------------------------------------------------------------ models / auth


def test_models_endpoints(fake: FakeOpenAIServer) -> None:
    client = make_client(fake)
    ids = [m.id for m in client.models.list()]
    assert CHAT_MODEL in ids and EMBED_MODEL in ids
    assert client.models.retrieve(CHAT_MODEL).id == CHAT_MODEL
    with pytest.raises(openai.NotFoundError) as exc:
        client.models.retrieve("no-such-model")
    assert exc.value.code == "model_not_found"


def test_auth_required_and_error_shape(fake: FakeOpenAIServer) -> None:
    resp = httpx.post(f"{fake.base_url}/chat/completions", json={"model": CHAT_MODEL})
    assert resp.status_code == 401
    assert set(resp.json()["error"]) == {"message", "type", "param", "code"}
    resp = httpx.get(f"{fake.base_url}/nope", headers={"Authorization": "Bearer x"})
    assert resp.status_code == 404 and "error" in resp.json()


def test_strict_models(fake: FakeOpenAIServer) -> None:
    fake.state.strict_models = True
    with pytest.raises(openai.NotFoundError):
        make_client(fake).chat.completions.create(model="gpt-unknown", messages=[{"role": "user", "content": "x"}])


# ------------------------------------------------------------ files / fine-tuning


def poll_until_done(client: openai.OpenAI, job_id: str) -> list[str]:
    statuses = []
    for _ in range(20):
        job = client.fine_tuning.jobs.retrieve(job_id)
        statuses.append(job.status)
        if job.status in {"succeeded", "failed", "cancelled"}:
            return statuses
    raise AssertionError(f"job never finished: {statuses}")


def test_files_and_fine_tune_success(fake: FakeOpenAIServer) -> None:
    client = make_client(fake)
    data = training_jsonl()
    uploaded = client.files.create(file=("train.jsonl", data), purpose="fine-tune")
    assert uploaded.id.startswith("file-") and uploaded.bytes == len(data)
    assert uploaded.filename == "train.jsonl" and uploaded.status == "processed"
    assert [f.id for f in client.files.list()] == [uploaded.id]
    assert client.files.retrieve(uploaded.id).purpose == "fine-tune"
    assert client.files.content(uploaded.id).content == data

    job = client.fine_tuning.jobs.create(
        training_file=uploaded.id,
        model=CHAT_MODEL,
        suffix="support-bot",
        hyperparameters={"n_epochs": 2},
        seed=7,
    )
    assert job.status == "validating_files" and job.seed == 7
    assert job.model == "gpt-4o-mini-2024-07-18"
    assert poll_until_done(client, job.id) == ["queued", "running", "succeeded"]

    done = client.fine_tuning.jobs.retrieve(job.id)
    assert re.fullmatch(
        r"ft:gpt-4o-mini-2024-07-18:harbor-pine:support-bot:[0-9a-f]{8}",
        done.fine_tuned_model or "",
    )
    assert done.trained_tokens and done.trained_tokens > 0
    assert done.hyperparameters.n_epochs == 2 and done.finished_at is not None
    assert client.files.retrieve(done.result_files[0]).purpose == "fine-tune-results"

    events = client.fine_tuning.jobs.list_events(job.id, limit=50).data
    assert "successfully completed" in events[0].message  # newest first
    assert [j.id for j in client.fine_tuning.jobs.list()] == [job.id]
    assert done.fine_tuned_model in [m.id for m in client.models.list()]
    reply = client.chat.completions.create(model=done.fine_tuned_model, messages=[{"role": "user", "content": "hi"}])
    assert reply.model == done.fine_tuned_model

    assert client.files.delete(uploaded.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(uploaded.id)


def test_fine_tune_failure(fake: FakeOpenAIServer) -> None:
    fake.state.fine_tune_outcome = "failed"
    fake.state.fine_tune_error = {
        "code": "quota_exceeded",
        "message": "No budget",
        "param": None,
    }
    client = make_client(fake)
    file_id = client.files.create(file=("t.jsonl", training_jsonl()), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(training_file=file_id, model=CHAT_MODEL)
    assert poll_until_done(client, job.id) == ["queued", "running", "failed"]
    failed = client.fine_tuning.jobs.retrieve(job.id)
    assert failed.error is not None and failed.error.code == "quota_exceeded"
    assert failed.fine_tuned_model is None

    fake.state.fine_tune_fail_stage = "validating_files"
    early = client.fine_tuning.jobs.create(training_file=file_id, model=CHAT_MODEL)
    assert poll_until_done(client, early.id) == ["failed"]


def test_fine_tune_bad_inputs(fake: FakeOpenAIServer) -> None:
    client = make_client(fake)
    with pytest.raises(openai.BadRequestError) as exc:
        client.files.create(file=("bad.jsonl", b'{"messages": []}\nnot json'), purpose="fine-tune")
    assert exc.value.code == "invalid_file_format"
    with pytest.raises(openai.BadRequestError) as exc:
        client.files.create(file=("bad.jsonl", b'{"prompt": "x"}'), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError) as exc:
        client.fine_tuning.jobs.create(training_file="file-missing", model=CHAT_MODEL)
    assert exc.value.param == "training_file"
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-missing")
    other = client.files.create(file=("notes.txt", b"hello"), purpose="assistants")
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.create(training_file=other.id, model=CHAT_MODEL)


def test_fine_tune_cancel_and_pagination(fake: FakeOpenAIServer) -> None:
    client = make_client(fake)
    file_id = client.files.create(file=("t.jsonl", training_jsonl()), purpose="fine-tune").id
    jobs = [client.fine_tuning.jobs.create(training_file=file_id, model=CHAT_MODEL) for _ in range(3)]
    page = client.fine_tuning.jobs.list(limit=2)
    assert [j.id for j in page.data] == [jobs[2].id, jobs[1].id] and page.has_more
    rest = client.fine_tuning.jobs.list(limit=2, after=jobs[1].id)
    assert [j.id for j in rest.data] == [jobs[0].id] and not rest.has_more
    assert len(list(client.fine_tuning.jobs.list(limit=1))) == 3  # auto-pagination

    cancelled = client.fine_tuning.jobs.cancel(jobs[0].id)
    assert cancelled.status == "cancelled"
    assert client.fine_tuning.jobs.retrieve(jobs[0].id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(jobs[0].id)


# --------------------------------------------------------------- fault injection


def test_rate_limit_then_success_with_retries(fake: FakeOpenAIServer) -> None:
    fake.state.fail_next = [429, 500]
    resp = make_client(fake, max_retries=2).chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "retry me"}]
    )
    assert resp.choices[0].message.content == 'Fake reply to: "retry me"'
    assert len(fake.state.bodies("/chat/completions")) == 3
    assert fake.state.fail_next == []


def test_rate_limit_without_retries(fake: FakeOpenAIServer) -> None:
    fake.state.fail_next = [429]
    with pytest.raises(openai.RateLimitError) as exc:
        make_client(fake).embeddings.create(model=EMBED_MODEL, input="x")
    assert exc.value.response.headers["retry-after"] == "0"
    assert exc.value.code == "rate_limit_exceeded"
    assert exc.value.body["type"] == "requests"  # type: ignore[index]


def test_langchain_retries(fake: FakeOpenAIServer) -> None:
    fake.state.fail_next = [503]
    llm = ChatOpenAI(model=CHAT_MODEL, base_url=fake.base_url, api_key="test", max_retries=1)
    assert llm.invoke("hi").content == 'Fake reply to: "hi"'
    fake.state.fail_next = [500]
    emb = OpenAIEmbeddings(
        base_url=fake.base_url,
        api_key="test",
        check_embedding_ctx_length=False,
        max_retries=0,
    )
    with pytest.raises(openai.InternalServerError):
        emb.embed_query("x")


def test_delay_causes_client_timeout(fake: FakeOpenAIServer) -> None:
    fake.state.delay_seconds = 5.0
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        make_client(fake, timeout=0.3).chat.completions.create(
            model=CHAT_MODEL, messages=[{"role": "user", "content": "slow"}]
        )
    assert time.monotonic() - started < 2.0
    llm = ChatOpenAI(
        model=CHAT_MODEL,
        base_url=fake.base_url,
        api_key="test",
        timeout=0.3,
        max_retries=0,
    )
    with pytest.raises(openai.APITimeoutError):
        llm.invoke("slow")


def test_stream_stall_causes_timeout(fake: FakeOpenAIServer) -> None:
    fake.state.chat_responder = lambda m, model: "one two three four five"
    fake.state.stream_stall_after = 2
    stream = make_client(fake, timeout=0.3).chat.completions.create(
        model=CHAT_MODEL, messages=[{"role": "user", "content": "x"}], stream=True
    )
    received: list[str] = []
    with pytest.raises(openai.APITimeoutError):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "one two"
