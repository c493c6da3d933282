"""The contracts of tests/contracts.py on their in-process implementations: the SQLite and HTTP order sources, the
fake embedder, the knowledge store on an embedded Chroma. (Real models and a Chroma server: tests/integration/
test_contracts_real.py; the state backend: test_state.py and test_scale_out.py.)"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from contracts import EmbeddingsContract, KnowledgeStoreContract, OrderSourceContract

from base.settings import Settings
from providers.embeddings import HashingEmbeddings
from services.orders import HttpOrders, SqliteOrders, demo_orders


class TestSqliteOrders(OrderSourceContract):
    @pytest.fixture
    def source(self, tmp_path: Path) -> SqliteOrders:
        table = SqliteOrders(tmp_path / "orders.sqlite3")
        table.put(demo_orders(5))
        return table


class TestHttpOrders(OrderSourceContract):
    @pytest.fixture
    def source(self):
        orders = {o.number: o for o in demo_orders(5)}

        class Service(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                order = orders.get(self.path.rsplit("/", 1)[-1])
                self.send_response(200 if order else 404)
                self.end_headers()
                if order:
                    self.wfile.write(json.dumps(order.__dict__).encode())

            def log_message(self, *_args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Service)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield HttpOrders(f"http://127.0.0.1:{server.server_port}")
        server.shutdown()


class TestHashingEmbeddings(EmbeddingsContract):
    @pytest.fixture
    def embeddings(self) -> HashingEmbeddings:
        return HashingEmbeddings()


class TestEmbeddedChroma(KnowledgeStoreContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(store_dir=tmp_path / "store", parse_isolation=False)
