"""Launch an OpenAI fine-tuning job from prepared JSONL files, follow it, and make the app use the result.

    python -m finetune.launch --train DIR/train.jsonl --validation DIR/validation.jsonl [--model M] [--epochs N]
        [--suffix S] [--seed N] [--method supervised|dpo] [--id-file PATH] [--poll-seconds S] [--dry-run]
    python -m finetune.launch --resume JOB_ID      # follow a job again (after Ctrl-C, or from another machine)
    python -m finetune.launch --cancel JOB_ID

Key and server come from the usual settings (`OPENAI_API_KEY`, `OPENAI_BASE_URL`), so any OpenAI-compatible
server with the fine-tuning API works. On success the id file (default `finetune/fine_tuned_model_id.json`, the
file the chat provider reads) is written atomically, so the app answers with the new model without a code
change. A failed or cancelled job writes nothing and exits 1. Ctrl-C leaves the job running and prints how to
resume. Exit codes: 0 done, 1 job or data failed, 2 no key, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from base.files import write_json_atomic
from finetune.dataset import MIN_EXAMPLES, DataError, estimate_cost, validate_file
from providers.chat import fine_tune_job_file

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
MAX_POLL_SECONDS = 60.0


class LaunchError(DataError):
    """A problem with one clear line for the user (bad data, an API error); exit code 1."""


def data_hash(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def write_job_status(path: Path, job: Any) -> None:
    """The job's id, model and status as last seen; best effort (following the job matters more)."""
    error = job.error.message if getattr(job, "error", None) and job.error.message else None
    record = {
        "job_id": job.id,
        "model": job.model,
        "status": job.status,
        "error": error,
        "fine_tuned_model": job.fine_tuned_model,
        "seen_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    with contextlib.suppress(OSError):
        write_json_atomic(path, record)


def make_client(timeout: float = 60.0, max_retries: int = 5):
    """The OpenAI client from the settings; `None` without a key. The SDK retries 429, 5xx and timeouts with
    exponential backoff (`max_retries`)."""
    from openai import OpenAI

    from base.settings import Settings

    settings = Settings()  # read now: the process-wide cache may predate the environment of this run
    if not settings.openai_api_key:
        return None
    return OpenAI(
        api_key=settings.openai_api_key, base_url=settings.openai_base_url, timeout=timeout, max_retries=max_retries
    )


def _api_line(exc: Exception) -> str:
    """One line for an API error: status and the server's message, never a stack trace."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        message = inner.get("message")
        return f"the API refused the request ({exc.status_code}): {message or exc.message}"
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot reach the API: {exc}"
    return f"API error: {exc}"


def create_job(client, args: argparse.Namespace) -> str:
    """Upload both files and create the job; returns its id."""
    with args.train.open("rb") as fh:
        train = client.files.create(file=(args.train.name, fh), purpose="fine-tune")
    validation = None
    if args.validation is not None:
        with args.validation.open("rb") as fh:
            validation = client.files.create(file=(args.validation.name, fh), purpose="fine-tune")
    hyper: dict[str, Any] = {}
    if args.epochs is not None:
        hyper["n_epochs"] = args.epochs
    job = client.fine_tuning.jobs.create(
        model=args.model,
        training_file=train.id,
        validation_file=validation.id if validation else None,
        suffix=args.suffix,
        seed=args.seed,
        method={"type": args.method, args.method: {"hyperparameters": hyper}},
        metadata={"data_sha256": data_hash(*[p for p in (args.train, args.validation) if p])},
    )
    print(f"created job {job.id} on {job.model} (training file {train.id})", flush=True)
    return str(job.id)


def new_events(client, job_id: str, seen: set[str]) -> Iterator[Any]:
    """Events not printed yet, oldest first. The API lists newest first, one page at a time: read pages until an
    event already printed, so a burst of more than a page between polls is not lost."""
    fresh = []
    for event in client.fine_tuning.jobs.list_events(job_id, limit=100):  # iterating fetches the next pages
        if event.id in seen:
            break
        fresh.append(event)
    for event in reversed(fresh):
        seen.add(event.id)
        yield event


def event_line(event: Any) -> str:
    data = event.data or {}
    if getattr(event, "type", None) == "metrics" or "train_loss" in data:
        parts = [f"step {data.get('step')}/{data.get('total_steps', '?')}"]
        parts += [f"{k} {data[k]:.4f}" for k in ("train_loss", "valid_loss", "full_valid_loss") if k in data]
        return "  " + ", ".join(parts)
    return f"  {event.message}"


def follow(
    client,
    job_id: str,
    poll_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    on_status: Callable[[Any], None] = lambda _job: None,
) -> tuple[Any, float | None]:
    """Poll the job until it ends, printing events and metrics as they arrive. The wait between polls grows
    (x1.5, at most a minute) while nothing changes and drops back when something does."""
    seen: set[str] = set()
    wait = poll_seconds
    last_valid: float | None = None
    status = None
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        changed = job.status != status
        for event in new_events(client, job_id, seen):
            changed = True
            data = event.data or {}
            for key in ("full_valid_loss", "valid_loss"):
                if key in data:
                    last_valid = float(data[key])
                    break
            print(event_line(event), flush=True)
        if job.status != status:
            print(f"status: {job.status}", flush=True)
            status = job.status
            on_status(job)
        if job.status in TERMINAL:
            return job, last_valid
        ceiling = max(MAX_POLL_SECONDS, poll_seconds)
        wait = poll_seconds if changed else min(ceiling, max(wait, 0.5) * 1.5) if poll_seconds else 0
        sleep(wait)


def finish(job: Any, last_valid: float | None, args: argparse.Namespace) -> int:
    """Write the id file for a succeeded job; explain a failed or cancelled one (nothing written)."""
    if job.status != "succeeded":
        reason = (job.error.message if job.error and job.error.message else None) or f"the job was {job.status}"
        print(f"job {job.id} {job.status}: {reason}. Nothing was written.", file=sys.stderr)
        return 1
    metadata = getattr(job, "metadata", None) or {}
    record = {
        "fine_tuned_model": job.fine_tuned_model,
        "base_model": job.model,
        "job_id": job.id,
        "data_sha256": metadata.get("data_sha256"),
        "finished_at": datetime.fromtimestamp(job.finished_at or time.time(), UTC).isoformat(timespec="seconds"),
        "validation_loss": last_valid,
        "trained_tokens": job.trained_tokens,
        "active": True,
    }
    print(f"fine-tuned model {job.fine_tuned_model} (job {job.id})", flush=True)
    try:
        write_json_atomic(args.id_file, record)
    except OSError as exc:
        raise LaunchError(f"cannot write {args.id_file}: {exc}; the model above is ready") from exc
    print(f"written to {args.id_file}; the app now answers with it")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=Path, help="training JSONL (finetune.prepare writes DIR/train.jsonl)")
    ap.add_argument("--validation", type=Path, help="validation JSONL")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--epochs", type=int, help="default: the API chooses")
    ap.add_argument("--suffix", help="up to 64 characters, part of the model name")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--method", choices=("supervised", "dpo"), default="supervised")
    ap.add_argument("--id-file", type=Path, help="default: the settings' fine_tuned_model_file")
    ap.add_argument("--poll-seconds", type=float, default=10.0, help="first wait between polls (it grows)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="validate the files and stop: no network, no key")
    mode.add_argument("--resume", metavar="JOB_ID", help="follow an existing job")
    mode.add_argument("--cancel", metavar="JOB_ID", help="cancel a job")
    args = ap.parse_args(argv)
    if not (args.resume or args.cancel) and args.train is None:
        ap.error("--train is required (or --resume / --cancel JOB_ID)")
    if args.epochs is not None and args.epochs < 1:
        ap.error("--epochs must be at least 1")
    if args.poll_seconds < 0:
        ap.error("--poll-seconds must not be negative")
    if args.suffix is not None and len(args.suffix) > 64:
        ap.error("--suffix is at most 64 characters")
    return args


def check_files(args: argparse.Namespace) -> None:
    """Validate both files by line (refuse on problems, warn on flags) and print tokens and the estimated cost."""
    for path in [p for p in (args.train, args.validation) if p is not None]:
        if not path.is_file():
            raise LaunchError(f"{path}: no such file")
        check = validate_file(path, args.method, MIN_EXAMPLES if path == args.train else 1, args.model)
        if check.problems:
            shown = "\n".join(f"  {path.name} {p}" for p in check.problems[:20])
            more = f"\n  ... and {len(check.problems) - 20} more" if len(check.problems) > 20 else ""
            raise LaunchError(f"{path} is not a valid {args.method} training file:\n{shown}{more}")
        print(f"{path}: {check.count} {args.method} examples, valid, {check.total_tokens:,} tokens", flush=True)
        for flag in check.flags[:5]:
            print(f"  warning: {path.name} {flag}", flush=True)
        if len(check.flags) > 5:
            print(f"  warning: ... and {len(check.flags) - 5} more answers with numbers not in their passages")
        if path == args.train:
            print(f"  {estimate_cost(check, args.model, args.epochs)}", flush=True)


def main(argv: list[str] | None = None, sleep: Callable[[float], None] = time.sleep) -> int:
    import openai

    args = parse_args(argv)
    if args.id_file is None:
        from base.settings import Settings

        args.id_file = Settings().fine_tuned_model_file
    job_id = args.resume or args.cancel
    try:
        if not job_id:
            check_files(args)
            if args.dry_run:
                print("dry run: nothing uploaded")
                return 0
        client = make_client()
        if client is None:
            print("No OpenAI key: set OPENAI_API_KEY (and OPENAI_BASE_URL for another server).", file=sys.stderr)
            return 2
        status_file = fine_tune_job_file(args.id_file)
        if args.cancel:
            job = client.fine_tuning.jobs.cancel(args.cancel)
            write_job_status(status_file, job)
            print(f"job {job.id}: {job.status}")
            return 0
        job_id = job_id or create_job(client, args)
        resume = f"python -m finetune.launch --resume {job_id}"
        try:
            job, last_valid = follow(
                client, job_id, args.poll_seconds, sleep, lambda j: write_job_status(status_file, j)
            )
        except KeyboardInterrupt:
            print(f"\nstopped following; job {job_id} keeps running. Resume with: {resume}", file=sys.stderr)
            return 130
        except openai.OpenAIError as exc:
            refused = isinstance(exc, openai.APIStatusError) and exc.status_code < 500  # e.g. no such job
            hint = "" if refused else f"; job {job_id} may still be running. Resume with: {resume}"
            print(f"error: {_api_line(exc)}{hint}", file=sys.stderr)
            return 1
        return finish(job, last_valid, args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except openai.OpenAIError as exc:  # API errors: one line, never a stack trace
        print(f"error: {_api_line(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
