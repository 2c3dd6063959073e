# Every target sets itself up: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# PyTorch comes first and separately, so a CPU-only build can be chosen, e.g.
#   make demo TORCH="torch torchvision --index-url https://download.pytorch.org/whl/cpu"
TORCH ?= torch==2.14.1 torchvision==0.29.1
OUT ?= runs

.PHONY: demo test test-all fuzz lint lab browser postgres clean help

help:
	@echo "make demo   - set up .venv, train the default recipe on bundled digits, print the report path"
	@echo "make test   - set up .venv with dev extras (and Chromium, PostgreSQL), run ruff and the test suite (all but the extended tests)"
	@echo "make test-all - make test and the extended tests (a second look, e.g. every tutorial in JupyterLab)"
	@echo "make fuzz   - the fuzz suite's long profile: 2,000 examples per target, outcome counts in fuzz-tally.json"
	@echo "make lab    - set up .venv with dev extras and open JupyterLab on notebooks/"

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PY) -c "import torch, torchvision; assert tuple(map(int, torch.__version__.split('+')[0].split('.')[:2])) >= (2, 10)" \
	  2>/dev/null || $(PIP) install -q $(TORCH)
	$(PIP) install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) install -q -e ".[dev]"
	# torchattacks only cross-checks our own attacks in tests; its pin of requests~=2.25 conflicts with Jupyter
	$(PIP) install -q --no-deps "torchattacks>=3.5.1"
	touch $@

demo: $(VENV)/.base
	$(VENV)/bin/lepton-nb demo --out $(OUT)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check lepton_nb tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) -m mypy  # strict on the recipe, a run's plan and the session (files: pyproject's [tool.mypy])

browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	   (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null))) || \
	  echo "note: Chromium not found and not installable here; real-browser tests will be skipped (fail under CI=true)"
	@# axe-core for the accessibility audits, from the npm registry (kept in .cache/, not in the repository)
	@command -v npm >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (apt-get install -y -q npm >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q npm >/dev/null))) || true
	@$(PYTHON) -m tests.browser.axe || [ -z "$$CI" ] || (echo "axe-core could not be fetched with npm" && false)

# the search test that shares one study between two processes starts its own PostgreSQL server (as the
# package's postgres user when run as root) from Debian's package
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  (command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	   (DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null))) || \
	  echo "note: PostgreSQL's server not found and not installable here; its test will be skipped (fails under CI=true)"

test: $(VENV)/.dev browser postgres lint
	$(PY) -m pytest -q -m "not extended"

# also the extended tests: a second look at what `make test` checks another way (e.g. every tutorial run in
# JupyterLab, beside the headless runs that check each one's claims)
test-all: $(VENV)/.dev browser postgres lint
	$(PY) -m pytest -q

# `make test` runs tests/fuzz with the small profile (a few dozen examples per target); this is the long one
fuzz: $(VENV)/.dev
	LEPTON_NB_FUZZ=long LEPTON_NB_FUZZ_TALLY=fuzz-tally.json $(PY) -m pytest tests/fuzz -q --timeout=0
	@cat fuzz-tally.json

lab: $(VENV)/.dev
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf $(VENV) runs test-artifacts .pytest_cache fuzz-tally.json .cache
