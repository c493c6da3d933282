"""The store directory's layout as the services see it: the side files beside the vector store (the manifest,
Chroma and the kept file copies are vectorstore/store.py's), the sibling folders a re-index uses, and which side
files a re-index carries into the new store. One place names them, so a new side file is added here once."""

from __future__ import annotations

from pathlib import Path

REINDEX_COMPLETE = "reindex.complete"  # written into a staged store once it is whole
CALIBRATION_FILE = "calibration.json"  # the decline thresholds fitted to this store (chains/calibration.py)
COLUMN_MAPS_FILE = "column_maps.json"  # catalogue column mappings staff gave, by source name (loaders/catalogue.py)
SITES_FILE = "sites.json"  # crawled help-centre sites: start URL -> their pages (services/crawl.py)
# Side files a re-index copies into the new store: catalogues are read again with the mappings staff gave them,
# and a re-crawl still knows each site's pages. (The calibration is fitted again; reviews live in the manifest.)
CARRIED_BY_REINDEX = (COLUMN_MAPS_FILE, SITES_FILE)


class StoreFiles:
    """Paths of one store directory's side files and re-index siblings."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir

    def side(self, name: str) -> Path:
        return self.store_dir / name

    def sibling(self, suffix: str) -> Path:
        """`.reindex` (the store being built), `.old` (the previous one during the swap), `.files` (copies)."""
        return self.store_dir.with_name(self.store_dir.name + suffix)
