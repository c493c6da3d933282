"""Catalogue column mappings staff gave, remembered per source name, so the next upload of that file uses them."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

from base.files import write_json_atomic
from loaders import LoaderError, ParsedFile
from loaders.base import safe_source_name
from loaders.catalogue import MAPPING_MISMATCH
from services.store_files import COLUMN_MAPS_FILE, StoreFiles


class ColumnMaps:
    def __init__(self, files: StoreFiles) -> None:
        self.files = files

    def all(self) -> dict[str, dict[str, str]]:
        """The column mappings staff gave, by source name."""
        try:
            data = json.loads(self.files.side(COLUMN_MAPS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): {str(f): str(c) for f, c in v.items()} for k, v in data.items() if isinstance(v, dict)}

    def get(self, name: str) -> dict[str, str] | None:
        """The remembered mapping for a file name (as uploaded or as stored), or None."""
        with contextlib.suppress(ValueError):
            name = safe_source_name(name)
        return self.all().get(name)

    def remember(self, source: str, columns: dict[str, str]) -> None:
        maps = self.all()
        if maps.get(source) != columns:
            maps[source] = dict(columns)
            self.files.store_dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.files.side(COLUMN_MAPS_FILE), maps)

    def parse(self, path: Path, columns: dict[str, str] | None, parse: Callable[..., ParsedFile]) -> ParsedFile:
        """Parse with the given mapping, else the remembered one (a remembered mapping that no longer fits the
        file's columns gives way to detection; a given one that does not fit is the staff's error to see)."""
        if columns or path.suffix.lower() != ".csv":
            return parse(path, columns or None)
        remembered = self.all().get(path.name)
        if remembered:
            try:
                return parse(path, remembered)
            except LoaderError as exc:
                if MAPPING_MISMATCH not in exc.reason:
                    raise
        return parse(path)
