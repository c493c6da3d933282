"""Command line for the knowledge store and the assistant: ingest, search, stats, calibrate, list, delete, reindex,
ask, chat, settings, hash-password, mask, forget.

Run from the repo root with the project's venv, e.g. `.venv/bin/python cli.py search "free shipping?" --json`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from collections.abc import Callable
from pathlib import Path


def _kb(args: argparse.Namespace):
    from base.settings import get_settings
    from services.knowledge import KnowledgeBase

    return KnowledgeBase(get_settings(), store_dir=args.store)


def _progress_printer():
    """Progress on stderr for long ingests, only when a person is watching."""
    if not sys.stderr.isatty():
        return None

    def show(name: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r  embedding {name}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _column_map(path: Path | None) -> dict[str, str] | None:
    """The --columns file: a JSON object mapping our field names to the CSV's column names."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"error: --columns {path}: cannot read it as JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise SystemExit(f'error: --columns {path}: expected an object like {{"name": "Product Name"}}')
    from services.uploads import CATALOGUE_FIELDS as FIELDS

    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise SystemExit(
            f"error: --columns {path}: unknown field(s) {', '.join(unknown)} (fields: {', '.join(FIELDS)})"
        )
    if "name" not in data:
        raise SystemExit(f"error: --columns {path}: the mapping needs a column for 'name'")
    return data


def cmd_ingest(args: argparse.Namespace) -> int:
    columns = _column_map(args.columns)
    kb = _kb(args)
    report = kb.ingest_paths(args.paths, progress=_progress_printer(), columns=columns)
    if args.json:
        print(
            json.dumps(
                {
                    "results": [r.__dict__ for r in report.done],
                    "errors": [{"file": f, "error": e} for f, e in report.failed],
                }
            )
        )
    else:
        for r in report.done:
            extra = f", {r.removed} old chunks removed" if r.removed else ""
            print(f"{r.status} {r.source}: {r.documents} documents, {r.chunks} chunks{extra}")
    for r in report.done:
        for warning in r.warnings:
            print(f"warning: {r.source}: {warning}", file=sys.stderr)
    for name, reason in report.failed:
        print(f"error: {name}: {reason}", file=sys.stderr)
    if not report.done and not report.failed:
        print("error: no supported files found in the given paths", file=sys.stderr)
        return 1
    return 0 if report.ok else 1


def cmd_ingest_url(args: argparse.Namespace) -> int:
    """Crawl a help-centre site and store each page as a source (services/crawl.py): one line per page, a summary;
    exit 1 when no page could be stored."""
    from services.crawl import ingest_site

    live = (lambda line: print(f"  {line}", file=sys.stderr, flush=True)) if sys.stderr.isatty() else None
    try:
        report = ingest_site(_kb(args), args.url, args.max_pages, args.depth, delay=args.delay, progress=live)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for page in report.pages:
            size = f": {page.chunks} chunks" if page.status in ("added", "replaced", "unchanged") else ""
            detail = f" ({page.detail})" if page.detail else ""
            print(f"{page.status} {page.url} -> {page.source}{size}{detail}")
        for item in report.skipped:
            print(f"skipped {item.url}: {item.reason}" + (f" ({item.detail})" if item.detail else ""))
        print(report.summary())
    for source, warning in report.warnings:
        print(f"warning: {source}: {warning}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if report.error:
        print(f"error: {report.start_url}: {report.error}; nothing was changed", file=sys.stderr)
    elif not report.ok:
        print(f"error: {report.start_url}: no page could be stored", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_search(args: argparse.Namespace) -> int:
    if (args.query is None) == (args.batch is None):
        print("error: give either a QUERY or --batch FILE", file=sys.stderr)
        return 2
    if args.batch is not None:
        try:
            queries = Path(args.batch).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: {args.batch}: cannot read batch file ({exc})", file=sys.stderr)
            return 2
    else:
        queries = [args.query]
    kb = _kb(args)
    nonblank = [q for q in queries if q.strip()]
    results = iter(kb.search_many(nonblank, args.k) if nonblank else [])
    for q in queries:
        hits = next(results) if q.strip() else []
        if args.json:
            print(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
        else:
            if args.batch is not None:
                print(f"# {q}")
            for n, h in enumerate(hits, 1):
                title = h.metadata.get("title", "")
                print(f"{n}. [{h.score:.3f}] {h.source} — {title}\n   {h.text[:160].replace(chr(10), ' ')}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Counts from the manifest, and whether the search index can serve them (it is opened: a health check)."""
    health = _kb(args).health()
    if args.json:
        print(json.dumps({k: getattr(health, k) for k in ("documents", "chunks", "indexed", "status")}))
    else:
        print(f"{health.documents} documents, {health.chunks} chunks")
    if health.status != "ok":
        print(f"error: the search index is {health.status}: {health.detail}", file=sys.stderr)
        return 1
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Re-fit the decline thresholds to the store (done after every change; this is for a store built before)."""
    kb = _kb(args)
    if kb.settings.decline_thresholds is not None or not kb.settings.decline_calibration:
        print("error: the settings fix the thresholds (ASSISTANT_DECLINE_THRESHOLDS / _CALIBRATION)", file=sys.stderr)
        return 2
    fitted = kb.recalibrate()
    if fitted is None:
        print("error: the thresholds could not be fitted (see the log line above)", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"thresholds": fitted.thresholds, "stats": fitted.stats, "fitted_at": fitted.fitted_at}))
    else:
        for lang, threshold in sorted(fitted.thresholds.items()):
            s = fitted.stats[lang]
            print(f"{lang}: decline under {threshold:.3f} (generic customer questions answered {s['in_answered']:.0%}, "
                  f"out-of-scope messages declined {s['oos_declined']:.0%})")  # fmt: skip
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    infos = _kb(args).list_sources()
    if args.json:
        print(json.dumps([{k: v for k, v in i.__dict__.items() if k != "chunk_ids"} for i in infos]))
    else:
        for i in infos:
            print(f"{i.source}\t{i.doc_type}\t{i.documents} docs\t{i.chunks} chunks\t{i.updated_at}")
    return 0


def _shown(name: str) -> str:
    """A name as typed, or escaped when it holds control or direction characters (a terminal must not obey them)."""
    import unicodedata

    return repr(name) if any(unicodedata.category(ch)[0] == "C" for ch in name) else name


def cmd_delete(args: argparse.Namespace) -> int:
    kb = _kb(args)
    status = 0
    for source in args.sources:
        stored = kb.resolve_source(Path(source).name)
        removed = kb.delete(stored) if stored else 0
        if removed:
            print(f"deleted {stored}: {removed} chunks")
        else:
            print(f"error: {_shown(source)}: no such document in the store", file=sys.stderr)
            status = 1
    return status


def _assistant(args: argparse.Namespace):
    from base.settings import chat_providers, get_settings
    from services.assistant import open_assistant

    if args.provider not in (None, *chat_providers()):
        choices = ", ".join(chat_providers())
        print(f"error: unknown provider '{args.provider}' (choose from {choices})", file=sys.stderr)
        return None
    update = {"chat_provider": args.provider} if args.provider else {}
    if args.store:
        update["store_dir"] = args.store
    settings = get_settings().model_copy(update=update)
    if settings.chat_provider == "openai" and not settings.openai_api_key:
        print("error: the openai provider needs OPENAI_API_KEY", file=sys.stderr)
        return None
    return open_assistant(settings, log=not args.no_log)


def _print_answer(result, as_json: bool) -> None:
    if as_json:
        out = result.to_json()
        out["sources"] = [{k: s[k] for k in ("text", "source", "metadata")} for s in out["sources"]]
        print(json.dumps(out, ensure_ascii=False))
        return
    print(result.answer)
    for n, src in enumerate(result.sources, 1):
        print(f"  [{n}] {src.source} — {src.title}")


def cmd_ask(args: argparse.Namespace) -> int:
    if (args.question is None) == (args.batch is None):
        print("error: give either a QUESTION or --batch FILE", file=sys.stderr)
        return 2
    assistant = _assistant(args)
    if assistant is None:
        return 2
    run_id = uuid.uuid4().hex
    if args.batch is None:
        _print_answer(assistant.ask(args.question, session_id=f"cli-{run_id}"), args.json)
        return 0
    try:
        questions = Path(args.batch).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {args.batch}: cannot read batch file ({exc})", file=sys.stderr)
        return 2
    for n, question in enumerate(questions):
        _print_answer(assistant.ask(question, session_id=f"cli-{run_id}-{n}"), args.json)  # independent conversations
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    if assistant is None:
        return 2
    print("Ask about products, orders, shipping, returns or payment. Empty line or Ctrl-D to quit.")
    session_id = f"cli-{uuid.uuid4().hex}"  # one conversation (in memory and in the log) per run
    while True:
        try:
            question = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question:
            return 0
        result = assistant.ask(question, session_id=session_id)
        print("assistant> ", end="")
        _print_answer(result, False)


def cmd_reindex(args: argparse.Namespace) -> int:
    report = _kb(args).reindex(progress=_progress_printer())
    for r in report.done:
        print(f"reindexed {r.source}: {r.chunks} chunks")
    for name, reason in report.failed:
        print(f"error: {name}: {reason}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_hash_password(args: argparse.Namespace) -> int:
    """Read the admin password twice without echo; print the bcrypt hash for ASSISTANT_ADMIN_PASSWORD_HASH."""
    import getpass

    from services.auth import hash_password

    if args.stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Admin password: ")
        if getpass.getpass("Again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    line = f"ASSISTANT_ADMIN_PASSWORD_HASH='{hashed}'"  # single quotes: dotenv must not expand the '$'s
    if args.write_env is None:
        print(hashed)
        print(f"Put this line in .env:  {line}", file=sys.stderr)
        return 0
    env = Path(args.write_env)
    kept = env.read_text(encoding="utf-8").splitlines() if env.exists() else []
    kept = [x for x in kept if not x.strip().startswith("ASSISTANT_ADMIN_PASSWORD_HASH=")]
    env.write_text("\n".join([*kept, line]) + "\n", encoding="utf-8")
    env.chmod(0o600)
    print(f"wrote the admin password hash to {env} (restart the app to use it)", file=sys.stderr)
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    """The effective configuration (environment + dotenv file), secrets shown only as set/unset."""
    from base.settings import describe, get_settings

    settings = get_settings()
    shown = {**describe(settings), "chat_provider_resolved": settings.answering_provider()}
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
    else:
        for name, value in shown.items():
            print(f"{name} = {value}")
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    """Which model answers; `--use base|fine-tuned` switches (the same switch as the admin Model page)."""
    from base.settings import get_settings
    from services.models import choose_model, model_status

    settings = get_settings()
    try:
        status = choose_model(settings, args.use == "fine-tuned") if args.use else model_status(settings)
    except FileNotFoundError as exc:
        print(f"error: {exc}: run python -m finetune.launch first", file=sys.stderr)
        return 1
    shown = {
        "provider": status.provider,
        "answering": status.answering,
        "base_model": status.base_model,
        "fine_tuned": status.fine_tuned,
        "last_job": status.last_job,
    }
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    print(f"answering: {status.answering} (provider {status.provider})")
    if status.fine_tuned:
        state = "active" if status.fine_tuned_active else "inactive: the base model answers"
        print(f"fine-tuned: {status.fine_tuned['fine_tuned_model']} ({state})")
    if status.last_job:
        print(f"last job: {status.last_job.get('job_id')} {status.last_job.get('status')}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """The Streamlit app, with the models loading in the background as the server starts (app_pages/preload.py)."""
    from streamlit.web import cli as streamlit_cli

    from app_pages import preload
    from base.settings import get_settings

    preload.start(get_settings())
    flags = ["--server.port", str(args.port)] + (["--server.address", args.address] if args.address else [])
    flags += ["--server.headless", "true"] if args.headless else []
    sys.argv = ["streamlit", "run", str(Path(__file__).with_name("streamlit_app.py")), *flags]
    return streamlit_cli.main()


def cmd_serve(args: argparse.Namespace) -> int:
    """The REST API (api/app.py) with uvicorn: the same store, log and settings as the app. `--workers N` starts N
    processes on one port; they share conversations and limits only through Redis (ASSISTANT_REDIS_URL)."""
    import uvicorn

    from base.settings import get_settings

    settings = get_settings()
    if args.workers > 1 and not settings.redis_url:
        print(
            "error: --workers needs ASSISTANT_REDIS_URL (redis://host:port/0): without it each worker keeps its own "
            "conversations and limits, so a follow-up reaching another worker loses its context",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1:
        uvicorn.run("api.app:app_from_settings", factory=True, workers=args.workers, host=args.host, port=args.port)
        return 0
    from api.app import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_api_key(args: argparse.Namespace) -> int:
    """Create (the key is printed once, alone on the last line), list or revoke the REST API's keys."""
    from base.settings import get_settings
    from services.api_keys import ApiKeyError, ApiKeys

    keys = ApiKeys(get_settings().api_keys_file)
    try:
        if args.action == "create":
            key = keys.create(args.name or "")
            print(f"created key {args.name!r}; it is shown only now, store it safely:", file=sys.stderr)
            print(key)
        elif args.action == "revoke":
            keys.revoke(args.name or "")
            print(f"revoked {args.name!r}")
        else:
            listed = keys.list()
            if args.json:
                print(json.dumps(listed))
            for item in [] if args.json else listed:
                print(f"{item['name']}\t{item['created_at']}")
    except ApiKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_orders(args: argparse.Namespace) -> int:
    """`seed`: fill the demo orders table (fictional customers; `--if-missing` leaves a filled one alone)."""
    from base.settings import get_settings
    from services.orders import SqliteOrders, demo_orders

    table = SqliteOrders(get_settings().orders_db)
    if args.if_missing and table.count():
        print(f"{table.path}: {table.count()} orders already")
        return 0
    table.put(demo_orders(args.count))
    print(f"{table.path}: {table.count()} demo orders")
    return 0


def cmd_mask(args: argparse.Namespace) -> int:
    """Each line of stdin as the log would store it (the store's settings: region, countries, published contacts)."""
    from base.pii import Masker
    from base.settings import get_settings

    masker = Masker.of(get_settings())
    if args.stored:
        from services.privacy import PrivacyDesk

        desk = PrivacyDesk.of(get_settings())

        def show(done: int, total: int) -> None:
            print(f"  conversation log: {done}/{total} rows", file=sys.stderr, flush=True)

        rows = desk.log.remask(show)
        tickets = desk.tickets.remask(desk.masker)
        print(f"masked again with the current rule: {rows} log rows changed, {tickets} tickets changed")
        return 0
    for line in sys.stdin:
        text = line.rstrip("\n")
        if args.json:
            found = [{"kind": f.entity, "start": f.start, "end": f.end} for f in masker.findings(text)]
            print(json.dumps({"masked": masker.mask(text), "found": found}, ensure_ascii=False), flush=True)
        else:
            print(masker.mask(text), flush=True)
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    """Erase a customer (`--email` and/or `--phone`), or apply the retention period now (`--expired`)."""
    from base.settings import get_settings
    from services.privacy import PrivacyDesk

    settings = get_settings()
    desk = PrivacyDesk.of(settings)
    if args.expired:
        report = desk.expire()
        if report is None:
            print("error: no retention period is set (ASSISTANT_LOG_RETENTION_DAYS)", file=sys.stderr)
            return 2
        counts = {k: v for k, v in vars(report).items() if k != "cutoff"}
        if args.json:
            print(json.dumps({"before": report.cutoff.isoformat(timespec="seconds"), **counts}))
        else:
            print(
                f"deleted what is older than {report.cutoff:%Y-%m-%d %H:%M} UTC: "
                + ", ".join(f"{k} {v}" for k, v in counts.items())
            )
        return 0
    if not (args.email or args.phone or args.session):
        print("error: give --email ADDRESS, --phone NUMBER or --session ID (or --expired)", file=sys.stderr)
        return 2
    report = desk.forget(email=args.email, phone=args.phone, sessions=set(args.session or ()))
    if settings.redis_url:  # the servers' shared conversation state: dropped now, not when it expires
        from base.kv import open_kv
        from services.state import ConversationStore

        ConversationStore(open_kv(settings.redis_url)).forget(report.sessions)
    if args.json:
        out = {k: v for k, v in vars(report).items() if k not in ("sessions", "identifiers")}
        print(json.dumps(out))
    else:
        print("erased:")
        for line in report.lines():
            print(f"  {line}")
        if report.conversations == 0:
            print(
                "note: no conversation is linked to this customer. Conversations logged before this version were not "
                "linked to e-mail addresses or phones; find them in the log (their text is masked) and erase them "
                "with --session ID."
            )
        if not settings.redis_url:
            print(
                "note: a server that is running drops its in-memory copy of these conversations when they expire "
                "(api_conversation_minutes); the admin page erases them at once."
            )
    return 0


def build_parser() -> argparse.ArgumentParser:
    from base.settings import chat_providers

    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument("--store", type=Path, default=None, help="store directory (default: from settings)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func)
        return p

    p = add("ingest", cmd_ingest, "add or replace files (or every supported file under a folder)")
    p.add_argument("paths", nargs="+")
    p.add_argument(
        "--columns",
        type=Path,
        metavar="MAP.json",
        help='catalogue CSVs: JSON mapping our fields to the file\'s columns, e.g. {"name": "Product Name", '
        '"price": "Selling Price"}; remembered for the file name',
    )
    p = add("ingest-url", cmd_ingest_url, "crawl a help-centre site and add or replace its pages")
    p.add_argument("url", help="the start page, e.g. https://help.example.com/")
    p.add_argument("--max-pages", type=int, default=50, help="pages requested at most (default 50)")
    p.add_argument("--depth", type=int, default=2, help="links followed from the start page (default 2)")
    p.add_argument("--delay", type=float, help="seconds between requests (default 0.5; longer if robots.txt asks)")
    p = add("search", cmd_search, "retrieve the best chunks for a query")
    p.add_argument("query", nargs="?")
    p.add_argument("--batch", type=Path, help="file with one query per line")
    p.add_argument("--k", type=int, default=4)
    add("stats", cmd_stats, "count documents and chunks")
    add("calibrate", cmd_calibrate, "re-fit the decline thresholds to the store's knowledge")
    add("list", cmd_list, "list the documents in the store")
    p = add("delete", cmd_delete, "delete documents by source file name")
    p.add_argument("sources", nargs="+")
    add("reindex", cmd_reindex, "rebuild the store from its kept files with the current embedding model")
    p = add("ask", cmd_ask, "answer a customer question from the store's knowledge")
    p.add_argument("question", nargs="?")
    p.add_argument("--batch", type=Path, help="file with one question per line (each its own conversation)")
    p = add("chat", cmd_chat, "interactive conversation in the terminal")
    for p in (sub.choices["ask"], sub.choices["chat"]):
        p.add_argument("--provider", default=None, help="auto (default), " + ", ".join(chat_providers()[1:]))
        p.add_argument("--no-log", action="store_true", help="do not write the answers to the conversation log")
    add("settings", cmd_settings, "show the effective settings (secrets as set/unset)")
    _servers_and_data(add)
    return parser


def _servers_and_data(add: Callable[..., argparse.ArgumentParser]) -> None:
    """The commands that start servers, manage keys and customers' data, and switch the model."""
    p = add("app", cmd_app, "start the Streamlit chat and admin app (the models load as it starts)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", help="listen on this address only (Streamlit's default: every interface)")
    p.add_argument("--headless", action="store_true", help="do not open a browser (servers, tests)")
    p = add("serve", cmd_serve, "start the REST API (POST /v1/chat, GET /v1/search, ...)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="worker processes (more than one needs Redis)")
    p = add("api-key", cmd_api_key, "create NAME | list | revoke NAME: the REST API's keys")
    p.add_argument("action", choices=("create", "list", "revoke"))
    p.add_argument("name", nargs="?")
    p = add("orders", cmd_orders, "seed the demo orders table (order status in the chat)")
    p.add_argument("action", choices=("seed",))
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--if-missing", action="store_true")
    p = add("mask", cmd_mask, "print each line of stdin as the conversation log would store it (personal data masked)")
    p.add_argument("--stored", action="store_true", help="instead: mask the stored log and tickets again (upgrades)")
    p = add("forget", cmd_forget, "erase a customer's conversations and tickets, or apply the retention period")
    p.add_argument("--email", help="the customer's e-mail address")
    p.add_argument("--phone", help="the customer's phone number")
    p.add_argument("--session", action="append", help="a conversation id to erase (repeatable)")
    p.add_argument("--expired", action="store_true", help="delete what is older than ASSISTANT_LOG_RETENTION_DAYS")
    p = add("model", cmd_model, "show which chat model answers, or switch between base and fine-tuned")
    p.add_argument("--use", choices=("base", "fine-tuned"), help="switch (writes the id file's active flag)")
    p = add("hash-password", cmd_hash_password, "make the bcrypt hash of the admin page's password")
    p.add_argument("--stdin", action="store_true", help="read the password from stdin (scripts) instead of a prompt")
    p.add_argument("--write-env", metavar="FILE", help="set the hash in this .env file instead of printing it")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="note: %(message)s")  # e.g. a store recovered after a crash
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) < 1:
        print("error: --k must be at least 1", file=sys.stderr)
        return 2
    from base.errors import StoreError

    try:
        return args.func(args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
