# Every target bootstraps .venv from requirements.txt on first use, so a fresh machine needs only Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The book's networks multiply matrices of a few hundred rows by 64 columns: a second BLAS thread only
# adds synchronisation, and on a loaded two-core machine it made training runs up to 20x slower.
export OPENBLAS_NUM_THREADS ?= 1
NODE_STAMP := node_modules/.installed-stamp
# JupyterLab's settings overrides for this venv (JupyterLab reads <prefix>/share/jupyter/lab/settings/).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: book book-strict test test-browser test-fast lint lab serve bench clean node_modules mutants font

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# pip compiles every module as it installs: with PYTHONDONTWRITEBYTECODE set (CI sets it) nothing else would,
	@# and each kernel would compile NumPy, SciPy, SymPy and matplotlib again (chapters ran 3x slower)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@# The kernel sets the one BLAS thread itself (kernel.json "env"), so a chapter runs as fast in a JupyterLab
	@# started some other way as under make, and the book build's kernel gets it too.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (actlib)" \
		--env OPENBLAS_NUM_THREADS 1 >/dev/null
	@# the kernel's TCP notice is logged as a WARNING line that the strict build would trip over
	mkdir -p $(VENV)/etc/ipython
	echo 'c.IPKernelApp.log_level = "ERROR"' > $(VENV)/etc/ipython/ipython_kernel_config.py
	@# Every JupyterLab of the venv reads the chapters with lab/bookcontents.py (see lab/jupyter_server_config.py).
	mkdir -p $(VENV)/etc/jupyter
	echo 'load_subconfig("$(CURDIR)/lab/jupyter_server_config.py")' > $(VENV)/etc/jupyter/jupyter_server_config.py
	touch $(STAMP)

# MyST-NB's execution cache matches a chapter by its code cells only; scripts/execution_inputs.py fingerprints
# what else an execution reads (actlib, the book's data files, the installed packages), recorded beside the cache.
BOOK_CACHE := _build/.jupyter_cache
INPUTS := $(BIN)/python scripts/execution_inputs.py

## make book: build the HTML book into _build/html (executes every chapter, cached between builds; a change
## to actlib, to the book's data files or to the installed packages empties the cache). Warnings are shown
## and recorded (_build/.book-build.json), not fatal: `make test` fails on them.
# The chapters execute first, one kernel per core, into MyST-NB's cache (scripts/execute_chapters.py); the build
# then reads them from it. Sphinx re-reads (and so MyST-NB executes) only the documents it finds changed: without its saved environment
# (_build/.doctrees) an emptied execution cache would stay empty for every unchanged chapter.
book: $(STAMP)
	@inputs=$$($(INPUTS)) && \
	if [ "$$(cat $(BOOK_CACHE).inputs 2>/dev/null)" != "$$inputs" ] && [ -d $(BOOK_CACHE) ]; then \
		echo "actlib, the book's data or the packages changed since the last build: every chapter executes"; \
		rm -rf $(BOOK_CACHE) _build/.doctrees; \
	fi && \
	$(BIN)/python scripts/execute_chapters.py && \
	$(BIN)/python scripts/build_book.py && echo "$$inputs" > $(BOOK_CACHE).inputs

## make book-strict: clean build with warnings as errors, as CI runs it
book-strict: $(STAMP)
	rm -rf _build/html _build/.doctrees $(BOOK_CACHE)
	@inputs=$$($(INPUTS)) && \
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going && echo "$$inputs" > $(BOOK_CACHE).inputs

## make test: lint, unit/property/accuracy tests, doctests of every public docstring and the README, every
## chapter run as a notebook (in a fresh kernel, compared with the book's outputs), the JupyterLab of
## `make lab` (hence the settings file), the strict book build and the browser tests
# Three parts run side by side: the Python tests (two workers); the site (the strict build, which is the whole
# build `make book` made when no source changed since, else a clean -W build starting from the execution cache
# of `make book` when it is current; then the browser tests, which read that site, on SITE_WORKERS workers);
# and the JupyterLab browser tests, which read the chapters themselves and so need not wait for the build.
# Each part prints its slowest tests, and the Python part each chapter's execution time.
STRICT_SITE := _build/strict-html
# The site's browser workers. Three kept both cores fuller in the site's own tail, but cost the whole make test
# more than they won: 192 and 197 s (362 and 370 core-s) in two local runs with two, 211 s (392) with three.
SITE_WORKERS ?= 2
PYTEST_TIMES := --durations=20 --durations-min=2
# The Python part is the longest, and its chapters' kernels compute: the browser parts yield the cores to them,
# with their own sessions (Chromium's, Lighthouse's, JupyterLab's kernels: see tests/browser/support.py).
BROWSER_NICE := 10
BESIDE := env ACTBOOK_BROWSER_NICE=$(BROWSER_NICE) nice -n $(BROWSER_NICE)
test: $(STAMP) $(LAB_SETTINGS) $(NODE_STAMP)
	$(BIN)/ruff check .
	@started=$$(date +%s); \
	$(MAKE) --no-print-directory -j3 --output-sync=target test-python test-site test-jupyterlab; status=$$?; \
	echo "make test: $$(( $$(date +%s) - started )) s for the tests (exit status $$status)"; exit $$status

.PHONY: test-python test-site test-jupyterlab
test-python: $(STAMP) $(LAB_SETTINGS)
	@started=$$(date +%s); \
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not browser" --deselect tests/test_book.py::test_strict_build $(PYTEST_TIMES); \
	status=$$?; echo "test-python: $$(( $$(date +%s) - started )) s"; exit $$status

test-site: $(STAMP) $(NODE_STAMP) $(LAB_SETTINGS)
	@started=$$(date +%s); rm -rf $(STRICT_SITE); \
	ACTBOOK_KEEP_STRICT_SITE=$(CURDIR)/$(STRICT_SITE) $(BIN)/python -m pytest -p no:xdist -rP \
		tests/test_book.py::test_strict_build $(PYTEST_TIMES) && built=$$(date +%s) && \
	ACTBOOK_SITE=$(CURDIR)/$(STRICT_SITE) $(BESIDE) $(BIN)/python -m pytest -n $(SITE_WORKERS) --dist loadgroup -m browser tests/browser \
		--ignore tests/browser/test_jupyterlab.py $(PYTEST_TIMES); \
	status=$$?; echo "test-site: $$(( $$(date +%s) - started )) s (strict build $$(( $${built:-0} - started )) s)"; exit $$status

test-jupyterlab: $(STAMP) $(LAB_SETTINGS)
	@started=$$(date +%s); \
	$(BESIDE) $(BIN)/python -m pytest -p no:xdist -m browser tests/browser/test_jupyterlab.py $(PYTEST_TIMES); \
	status=$$?; echo "test-jupyterlab: $$(( $$(date +%s) - started )) s"; exit $$status

## make test-browser: build the book (make book), then read every page of _build/html in Chromium: console
## errors, requests, images, formulas, previous/next links, search, axe-core and Lighthouse. Without
## Chromium or npm the tests skip and say what to install; with CI=true they fail instead.
test-browser: book $(NODE_STAMP) $(LAB_SETTINGS)
	$(BIN)/python -m pytest -p no:xdist -m browser tests/browser

# axe-core and Lighthouse, as package-lock.json pins them. npm is optional outside CI: without it the
# tests that need these packages skip.
node_modules: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		echo "npm ci"; npm ci --no-audit --no-fund && touch $@; \
	elif [ "$$CI" = true ]; then \
		echo "npm is needed in CI (Node.js 20 or newer) for the axe-core and Lighthouse tests" >&2; exit 1; \
	else \
		echo "npm not found: the axe-core and Lighthouse tests will skip (install Node.js 20+ and npm)"; \
	fi

## make test-fast: the same without the slow full-range sweeps
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not slow and not browser" $(PYTEST_TIMES)

## make mutants: a seeded sample of mutants of the activation modules (cosmic-ray), each run against the fast
## tests; prints every outcome, the kill score and the survivors' diffs (MUTANTS=n, MUTANT_SEED=s to change)
MUTANTS ?= 30
MUTANT_SEED ?= 2013
mutants: $(STAMP)
	$(BIN)/python scripts/mutants.py --sample $(MUTANTS) --seed $(MUTANT_SEED)

lint: $(STAMP)
	$(BIN)/ruff check .

## make font: cut the CJK web font (_static/fonts) to the Chinese characters the book uses; run it after
## adding Chinese text anywhere (tests/test_cjk_font.py says when). Needs `apt-get install fonts-noto-cjk`.
font: $(STAMP)
	$(BIN)/python scripts/make_cjk_font.py

# JupyterLab opens a .md file in its text editor by default; the chapters are MyST notebooks, so make
# jupytext's notebook view the default for Markdown (a double click opens a chapter as a notebook).
# windowingMode "defer" renders every cell (in the background), not only those on screen: the browser's
# find then searches the whole chapter, and jupyterlab-myst fills in every {eval} of a Run All.
$(LAB_SETTINGS): $(STAMP) Makefile
	mkdir -p $(dir $(LAB_SETTINGS))
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}, "@jupyterlab/notebook-extension:tracker": {"windowingMode": "defer"}}' > $(LAB_SETTINGS)

## make lab: JupyterLab on book/, where every chapter opens as a notebook running the kernel with actlib.
## make lab LAB_PORT=8890 LAB_BROWSER=no LAB_IP=0.0.0.0: another port, no browser, listen beyond localhost;
## LAB_ARGS passes anything else to jupyter lab. As root (a container) it adds --allow-root.
LAB_PORT ?= 8888
LAB_BROWSER ?= yes
LAB_IP ?= localhost
LAB_ARGS ?=
LAB_FLAGS := --ip=$(LAB_IP) --port=$(LAB_PORT) $(if $(filter no,$(LAB_BROWSER)),--no-browser) \
	$(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
lab: $(LAB_SETTINGS)
	$(BIN)/jupyter lab book/ $(strip $(LAB_FLAGS) $(LAB_ARGS))

serve: $(STAMP)
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html 8000

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
