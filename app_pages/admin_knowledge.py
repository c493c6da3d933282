"""Admin: upload, replace, delete, download and re-index the store's documents, and add single answers
(thin over services.uploads / KnowledgeBase)."""

from __future__ import annotations

import streamlit as st

from app_pages.resources import conversation_log, knowledge_base, require_admin
from base.errors import StoreError
from base.exports import neutralise_rows
from base.links import render_safe
from base.settings import get_settings
from services.analytics import summarize
from services.crawl import SiteReport, ingest_site, source_urls
from services.knowledge import KnowledgeBase
from services.uploads import (
    CATALOGUE_FIELDS,
    MAX_ANSWER_CHARS,
    MAX_FAQ_QUESTION_CHARS,
    STAFF_FAQ,
    UploadOutcome,
    add_faq_entry,
    catalogue_preview,
    ingest_uploads,
)

require_admin()
state = st.session_state
state.setdefault("uploader_key", 0)
with st.spinner("Loading the offline models (first time only, ~10 s)…"):
    kb = knowledge_base()
    _ = kb.embeddings  # the store needs the model's id even to list documents

st.title("Knowledge")
st.caption(
    "Product catalogues (CSV), FAQs (JSON or CSV) and policies (Markdown, text, PDF, Word). Uploading a file "
    "with the same name as a stored one replaces it. Files are checked before anything is stored: a rejected "
    "file changes nothing."
)


def chunks(n: int) -> str:
    return f"{n} chunk" if n == 1 else f"{n} chunks"


def safe(text: str) -> str:
    """Reasons and warnings quote the files' own text: links in it must not be live here either (base/links.py)."""
    return render_safe(text, get_settings().allowed_link_hosts)


def show_outcome(outcome: UploadOutcome) -> None:
    """One line per file, then its warnings (left-out passages)."""
    if outcome.status == "rejected":
        st.error(f"**{outcome.name}** rejected: {safe(outcome.reason)}", icon="⛔")
    elif outcome.status == "unchanged":
        st.info(f"**{outcome.name}** unchanged (same content as the stored version).", icon="➖")
    else:
        st.success(f"**{outcome.name}** {outcome.status}: {chunks(outcome.chunks)}.", icon="✅")
    for warning in outcome.warnings:
        st.warning(f"**{outcome.name}**: {safe(warning)}", icon="⚠️")


# -- upload ---------------------------------------------------------------------------------------------
files = st.file_uploader(
    "Files to add or replace",
    type=[ext.lstrip(".") for ext in KnowledgeBase.formats],
    accept_multiple_files=True,
    key=f"uploader-{state.uploader_key}",
)


def catalogue_mappings(uploaded: list) -> dict[str, dict[str, str]]:
    """For each catalogue CSV in the upload: the mapping that will be used (remembered for its name, else
    detected), editable, with the first products as they will be read. Returns the mappings staff changed
    or that were remembered (they are remembered again for the file's name)."""
    chosen: dict[str, dict[str, str]] = {}
    for upload in uploaded:
        found = catalogue_preview(kb, upload.name, upload.getvalue())
        if found is None:
            continue  # not a catalogue CSV
        base, remembered = found
        if base.column_map is None:
            st.error(f"**{upload.name}**: {safe(base.problem)}", icon="⛔")
            continue
        labels = {"own": "our own columns", "shopify": "a Shopify export", "woocommerce": "a WooCommerce export"}
        how = "the mapping used last time" if remembered else labels.get(base.column_map.profile, "columns guessed")
        with st.expander(f"Columns of {upload.name} ({how})", expanded=True):
            options = ["(none)", *base.header]
            picks = st.columns(3)
            mapping: dict[str, str] = {}
            for n, name in enumerate(CATALOGUE_FIELDS):
                current = base.column_map.columns.get(name, "(none)")
                pick = picks[n % 3].selectbox(
                    name, options, index=options.index(current) if current in options else 0,
                    key=f"map-{state.uploader_key}-{upload.name}-{name}",
                )  # fmt: skip
                if pick != "(none)":
                    mapping[name] = pick
            changed = mapping != base.column_map.columns
            shown = catalogue_preview(kb, upload.name, upload.getvalue(), mapping)[0] if changed else base
            if shown.problem:
                st.error(safe(shown.problem), icon="⛔")
            else:
                st.caption("The first products as they will be stored (unknown = not in the file, never 0):")
                st.dataframe(shown.rows, hide_index=True)
            if changed or remembered:
                chosen[upload.name] = mapping
    return chosen


mappings = catalogue_mappings(files or [])
if st.button("Add to knowledge base", type="primary", disabled=not files):
    bars = [st.progress(0.0, text=f"{f.name}: waiting") for f in files]
    labels = {"checking": "checking", "parsing": "checking and parsing", "embedding": "embedding"}

    def progress(index: int, name: str, stage: str, fraction: float) -> None:
        bars[index].progress(min(max(fraction, 0.0), 1.0), text=f"{name}: {labels.get(stage, stage)}")

    state.upload_outcomes = ingest_uploads(kb, [(f.name, f.getvalue()) for f in files], progress, mappings)
    state.uploader_key += 1  # clears the uploader so the same files are not sent twice
    st.rerun()

# -- add one answer (filling a knowledge gap) --------------------------------------------------------------
with st.expander("Add an answer (e.g. for a question the assistant declined)", expanded=False):
    gaps = [g.question for g in summarize(conversation_log().rows()).declined_top]
    if gaps:

        def pick_gap() -> None:
            state["faq-question"] = state["gap-pick"] if state["gap-pick"] in gaps else ""

        st.selectbox(
            "Start from a question customers asked and the assistant declined",
            ["—", *gaps],
            key="gap-pick",
            on_change=pick_gap,
        )
    st.text_input("Question", key="faq-question", max_chars=MAX_FAQ_QUESTION_CHARS)
    st.text_area("Answer", key="faq-answer", max_chars=MAX_ANSWER_CHARS)
    st.caption(f"Saved in `{STAFF_FAQ}` (download it below to edit or remove entries, then upload it again).")

    def add_answer() -> None:
        outcome = add_faq_entry(kb, state.get("faq-question", ""), state.get("faq-answer", ""))
        state.upload_outcomes = [outcome]
        if outcome.status != "rejected":
            state["faq-question"], state["faq-answer"] = "", ""

    st.button("Add answer", on_click=add_answer)

for outcome in state.get("upload_outcomes", []):
    show_outcome(outcome)


# -- add a website (the shop's help centre; services/crawl.py) ------------------------------------------
def show_site_report(report: SiteReport) -> None:
    """The crawl's outcome: a summary, every page with what happened to it, and every skipped page with why."""
    if report.error:
        st.error(f"{report.start_url}: {safe(report.error)}. Nothing was changed.", icon="⛔")
        return
    (st.success if report.ok else st.warning)(safe(report.summary()), icon="✅" if report.ok else "⚠️")
    if report.pages:
        rows = [
            {"page": p.url, "document": p.source, "result": p.status, "chunks": p.chunks, "detail": p.detail}
            for p in report.pages
        ]
        st.dataframe(neutralise_rows(rows), hide_index=True)
    if report.skipped:
        st.caption(f"Skipped ({len(report.skipped)})")
        skipped = [{"page": s.url, "reason": s.reason, "detail": s.detail} for s in report.skipped]
        st.dataframe(neutralise_rows(skipped), hide_index=True)
    for source, warning in report.warnings:
        st.warning(f"**{source}**: {safe(warning)}", icon="⚠️")
    for note in report.notes:
        st.caption(safe(note))


with st.expander("Add website (the shop's help centre)", expanded=False):
    st.caption(
        "Each page becomes one document named after its address. Only pages of the same site are read, robots.txt "
        "is honoured and the crawler pauses between requests; the sitemap lists the pages when the site has one. "
        "Crawling the same site again replaces changed pages and removes the ones that are gone (not found, or "
        "now skipped for good); a page that failed only for now, or that a smaller crawl did not reach, is kept."
    )
    with st.form("add-website"):
        site_url = st.text_input("Start page", placeholder="https://help.example.com/", key="site-url")
        col_pages, col_depth = st.columns(2)
        site_pages = col_pages.number_input("Max pages", min_value=1, max_value=500, value=50, key="site-pages-max")
        site_depth = col_depth.number_input("Link depth", min_value=0, max_value=5, value=2, key="site-depth")
        crawl_now = st.form_submit_button("Crawl and add")
    if crawl_now:
        with st.status(f"Crawling {site_url}…", expanded=True) as crawl_status:
            try:
                state.site_report = ingest_site(kb, site_url, int(site_pages), int(site_depth), progress=st.text)
            except ValueError as exc:
                state.site_report = None
                st.error(str(exc), icon="⛔")
            done = state.site_report is not None and state.site_report.ok
            crawl_status.update(label=f"Crawled {site_url}", state="complete" if done else "error", expanded=False)
    if state.get("site_report") is not None:
        show_site_report(state.site_report)

# -- passages held for review -----------------------------------------------------------------------------
held = kb.held_passages()
if held:
    st.subheader(f"Held for review ({len(held)})")
    st.caption(
        "These passages read like instructions to the assistant or like fraud (payments redirected, card data or "
        "passwords asked for). Customers don't see them until you publish them; *Keep out* drops them for good."
    )

    def decide(source: str, passage: str, approve: bool) -> None:
        result = kb.review(source, passage, approve)
        verb = "Published" if approve else "Kept out"
        state.admin_message = f"{verb} the passage of {source}" + (f" ({result.status})." if result else ".")

    for item in held[:25]:
        with st.container(border=True):
            st.caption(f"{item.source} · held {item.at.replace('T', ' ').removesuffix('+00:00')} UTC")
            st.text(item.text[:1500])  # as plain text: never rendered as Markdown
            st.text(f"Why: it {item.reason}"[:600])
            publish, keep_out = st.columns(2)
            publish.button("Publish", key=f"publish-{item.source}-{item.passage}", on_click=decide,
                           args=(item.source, item.passage, True))  # fmt: skip
            keep_out.button("Keep out", key=f"keep-out-{item.source}-{item.passage}", on_click=decide,
                            args=(item.source, item.passage, False))  # fmt: skip

# -- documents ------------------------------------------------------------------------------------------
st.subheader("Documents in the store")
try:
    health = kb.health()  # opens the search index: after a crash this is where it is checked and rebuilt
    sources = kb.list_sources()
except StoreError as exc:
    st.error(str(exc))
    st.stop()
if health.status == "recovering":
    st.warning(f"The search index is being rebuilt after a crash ({health.detail}). Reload in a moment.", icon="⏳")
elif health.status != "ok":
    st.error(f"The search index cannot serve answers: {health.detail}", icon="⛔")
events = kb.events(limit=10)
if events:
    latest = events[0]
    show = st.error if latest.kind == "recovery_failed" else st.info
    show(f"{latest.at.replace('T', ' ').removesuffix('+00:00')} UTC: {latest.message}", icon="🛠️")
    with st.expander(f"Store log ({len(events)} most recent events)"):
        for event in events:
            st.caption(f"{event.at.replace('T', ' ').removesuffix('+00:00')} UTC · {event.kind} · {event.message}")
st.caption(f"{len(sources)} documents, {sum(s.chunks for s in sources)} chunks")
page_urls = source_urls(kb.store_dir)  # documents crawled from a website (services/crawl.py)
if not sources:
    st.info("The store is empty: upload files above.")
else:
    st.dataframe(
        neutralise_rows(  # the toolbar downloads the table as CSV: no formulas (base/exports.py)
            {
                "source": s.source,
                **({"web page": page_urls.get(s.source, "")} if page_urls else {}),
                "type": s.doc_type,
                "entries": s.documents,
                "chunks": s.chunks,
                "last updated (UTC)": s.updated_at.replace("T", " ").removesuffix("+00:00"),
            }
            for s in sources
        ),
        hide_index=True,
    )
    col_delete, col_reindex = st.columns(2)
    with col_delete, st.container(border=True):
        target = st.selectbox("Document", [s.source for s in sources], key="delete-target")
        kept = kb.kept_copy(target)
        if kept is not None:
            st.download_button("Download", data=kept.read_bytes, file_name=target, on_click="ignore", icon="⬇️")
        sure = st.checkbox("Yes, remove it from the assistant's answers", key="delete-confirm")
        if st.button("Delete document", disabled=not sure):
            try:
                removed = kb.delete(target)
            except StoreError as exc:
                st.error(f"Could not delete {target}: {exc}")
            else:
                state.upload_outcomes = []
                state.pop("delete-confirm", None)
                state.admin_message = f"Deleted {target} ({chunks(removed)})."
                st.rerun()
    with col_reindex, st.container(border=True):
        st.caption(
            "Re-index rebuilds every document from its kept copy with the current embedding model "
            "(after a model change). The current store keeps serving until the new one is complete."
        )
        if st.button("Re-index all documents"):
            bar = st.progress(0.0, text="re-indexing")
            names = [s.source for s in sources]

            def reindex_progress(name: str, done: int, total: int) -> None:
                position = names.index(name) if name in names else 0
                fraction = (position + (done / total if total else 1.0)) / max(len(names), 1)
                bar.progress(min(fraction, 1.0), text=f"re-indexing {name}")

            report = kb.reindex(reindex_progress)
            if report.failed:
                failed = "; ".join(f"{name}: {reason}" for name, reason in report.failed)
                state.admin_message = f"Re-index stopped, the store is unchanged. {failed}"
            else:
                state.admin_message = f"Re-indexed {len(report.done)} documents."
            st.rerun()

if message := state.pop("admin_message", None):
    st.toast(message)
    st.info(message)
