"""What an upload holds back for staff: passages the pattern or the semantic screen flags (kept out until staff
review them), and warnings about links customers cannot follow."""

from __future__ import annotations

from collections import Counter

from langchain_core.documents import Document

from base.links import foreign_links
from loaders import ParsedFile
from loaders.semantic_screen import SemanticScreen
from providers.embeddings import use_bf16, wheel_minilm
from services.kb_host import KnowledgeHost
from vectorstore.manifest import HeldPassage, passage_id
from vectorstore.store import UpsertResult
from vectorstore.views import chunk_ids_for

_UNSET = object()


def screen_text(doc: Document) -> str:
    """What the semantic screen reads of a passage: a product's text cells (name, brand, category, tags,
    description, details, options), not the lines our loader writes from numbers (SKU, price, stock, delivery: the
    pattern screen still reads the whole text). The screen is the costliest step of a catalogue ingest
    (bench/catalogue_scale.py); on 200 demo products this lifted it from 12.3 to 14.4 passages/s."""
    meta = doc.metadata
    if meta.get("type") != "product":
        return doc.page_content
    fields = (meta.get(k) for k in ("name", "brand", "category", "tags", "description", "attributes", "options"))
    return "\n".join(str(v) for v in fields if v) or doc.page_content


class ReviewQueue:
    def __init__(self, kb: KnowledgeHost, screen: SemanticScreen | bool | None = None) -> None:
        """`screen`: the semantic screen; False: none; None: what the settings say."""
        self.kb = kb
        self._screen: SemanticScreen | object | None = _UNSET if screen is None else (screen or None)

    @property
    def screen(self) -> SemanticScreen | None:
        """The semantic screen (`screen_model`), loaded on first use; None when it is off."""
        if self._screen is _UNSET:
            settings = self.kb.settings
            model = settings.screen_model
            if model == "auto":
                model = "off" if settings.embedding_provider == "fake" else "minilm"
            self._screen = None
            if model == "minilm":
                self._screen = SemanticScreen(wheel_minilm(use_bf16(settings)), settings.screen_threshold)
        return self._screen

    def hold(self, parsed: ParsedFile) -> dict[int, str]:
        """Positions of the passages to keep out until staff review them, with the reason: those the pattern
        screen flagged and those the semantic screen finds close to a known fraud or instruction phrasing,
        except passages staff already approved."""
        store = self.kb.store
        reviews = store.manifest.reviews()
        ids = [passage_id(doc.page_content) for doc in parsed.docs]
        held = {n: reason for n, reason in parsed.held.items() if reviews.get(ids[n]) != "approved"}
        if self.screen is not None:
            # A chunk already live passed this screen when it went live: a re-upload with 1% of its rows changed
            # screens that 1% (the screen embeds every sentence, the costliest step of a catalogue ingest).
            live, chunk_ids = store.active_ids(), chunk_ids_for(parsed.docs)
            todo = [
                n
                for n in range(len(parsed.docs))
                if n not in parsed.held and reviews.get(ids[n]) != "approved" and chunk_ids[n] not in live
            ]
            for n, flag in zip(todo, self.screen.flag([screen_text(parsed.docs[n]) for n in todo]), strict=True):
                if flag is not None:
                    held[n] = flag.reason()
        return held

    def waiting(self) -> list[HeldPassage]:
        """Passages waiting for staff review, newest first."""
        with self.kb.reading():
            return self.kb.store.manifest.held()

    def decide(self, source: str, passage: str, approve: bool) -> UpsertResult | None:
        """Record staff's decision on a held passage; an approved one goes live at once (the kept copy of its
        file is ingested again, and the screens let that passage through from now on)."""
        with self.kb.reading():
            self.kb.store.manifest.set_review(passage, "approved" if approve else "rejected")
        kept = self.kb.kept_copy(source) if approve else None
        return self.kb.ingest_file(kept) if kept is not None else None

    def link_warnings(self, parsed: ParsedFile) -> list[str]:
        """Tell staff which links customers will not be able to follow, and that images never show (base/links.py)."""
        allowed_hosts = self.kb.settings.allowed_link_hosts
        hosts: Counter[str] = Counter()
        images = 0
        for doc in parsed.docs:
            found, pictures = foreign_links(doc.page_content, allowed_hosts)
            hosts.update(found)
            images += pictures
        warnings = []
        if hosts:
            listed = ", ".join(f"{host} ({n}×)" if n > 1 else host for host, n in hosts.most_common(8))
            allowed = ", ".join(allowed_hosts) or "none"
            warnings.append(
                f"links to other sites are shown to customers as plain text, not as links: {listed}. Sites whose "
                f"links stay clickable: {allowed} (ASSISTANT_ALLOWED_LINK_HOSTS)."
            )
        if images:
            warnings.append(f"{images} image(s) in the text are never shown to customers (remote images can track).")
        return warnings
