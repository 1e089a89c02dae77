# Two commands on a fresh machine: `make chat` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The chat's corpus and where its index lives. corpus/ is git-ignored and starts as a copy of
# seeds/, so chat uploads never modify the tracked seed articles.
CORPUS ?= corpus
INDEX ?= index
# Where `make chat` serves the page.
PORT ?= 7860

.PHONY: install install-dev browser chat index test unit field eval-gate eval-bbc eval-reuters clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls several GB of CUDA packages.
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e .
	touch $@

# The llm extra needs llama-cpp-python, which compiles llama.cpp from source (minutes on 2 cores).
# pip's own build is native (-march=native): on an AVX-512/AMX machine its repacked-weight
# kernels crashed (SIGSEGV) on SmolLM2's first multi-token prompt, and a native wheel kept in
# pip's cache breaks on another CPU. So we build one portable AVX2 wheel per machine, keep it in
# our own cache keyed by version and flags, and install that.
LLAMA_VERSION := $(shell sed -n 's/^llama_cpp_python==//p' constraints.txt)
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_WHEELS := $(HOME)/.cache/rag/wheels/llama-cpp-python-$(LLAMA_VERSION)-avx2

$(LLAMA_WHEELS)/.built:
	mkdir -p $(LLAMA_WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) wheel -q --no-deps --no-cache-dir \
		-w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed $(LLAMA_WHEELS)/.built
	$(PIP) install -q --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(PIP) install -q -c constraints.txt -e ".[dev,llm,milvus]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev browser

# Debian's Chromium for the browser tests (Playwright drives it; it downloads no browser).
browser:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null)

$(CORPUS):
	cp -R seeds $(CORPUS)

index: install | $(CORPUS)
	$(VENV)/bin/rag index $(CORPUS) --index $(INDEX)

# The chat indexes the folder the index records (uploads and Re-index go there).
chat: index
	$(VENV)/bin/rag chat --index $(INDEX) --port $(PORT)

unit: install-dev
	$(PY) -m pytest -q

field: install-dev
	$(PY) -m bench.field

eval-gate: install-dev
	$(VENV)/bin/rag eval eval/seeds.jsonl --check --out eval/out/seeds

eval-bbc: install-dev
	$(VENV)/bin/rag eval eval/bbc.jsonl --check --out eval/out/bbc

eval-reuters: install-dev
	$(VENV)/bin/rag eval eval/reuters.jsonl --check --out eval/out/reuters

# The field test (bench/field.py) after the unit tests: builds racing and killed, files as they
# come, every bad input, 20 chat clients; exit 1 on any FAIL.
test: install-dev
	$(PY) -m pytest -q
	$(PY) -m bench.field --quick
	$(VENV)/bin/rag eval eval/seeds.jsonl --check --out eval/out/seeds
	$(VENV)/bin/rag eval eval/bbc.jsonl --check --out eval/out/bbc
	$(VENV)/bin/rag eval eval/reuters.jsonl --check --out eval/out/reuters

clean:
	rm -rf $(VENV) eval/out
