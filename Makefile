# The two commands of the README:
#   make report   set up, fetch the data if missing, leukemia run: every notebook into reports/default/
#   make test     set up, fetch the data if missing, lint + unit tests + nbval on every notebook
# Set-up is a local virtual environment (.venv) with the project installed in editable mode,
# pinned by requirements-lock.txt so that the committed notebook outputs are reproduced exactly.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb)) $(sort $(wildcard notebooks/solutions/[0-9][0-9]_*.ipynb))
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# The data folder: $LEUKEMIA_DATA_DIR if set (CI points it at ../shared/data/golub1999), else
# data/raw. Made absolute so that kernels started in notebooks/ find it too.
export LEUKEMIA_DATA_DIR := $(abspath $(or $(LEUKEMIA_DATA_DIR),data/raw))
# Silence the debugger's frozen-modules warning that Python 3.11 kernels print at start.
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: report test test-fast mutation lint data browser lab notebooks bench lock clean help

help:
	@echo "make report   leukemia run: all notebooks into reports/default/ and report.html (sets up first)"
	@echo "make test     lint, unit tests and nbval on every notebook (sets everything up first)"
	@echo "make test-fast  the unit tests without the slow tier (notebooks, kernels, clusters, installs)"
	@echo "make mutation  mutation testing of the science modules against the fast tier (hours; MUTANTS=... narrows it)"
	@echo "make lab      JupyterLab on the notebooks, with the project's environment"
	@echo "make notebooks  re-execute the committed notebooks in place (after changing them)"
	@echo "make bench    the three benchmarks of benchmarks/README.md (about 5 minutes)"
	@echo "make lock     re-resolve requirements-lock.txt from pyproject.toml (maintainers; uv)"
	@echo "make clean    remove the virtual environment, caches and reports (not the data)"

$(STAMP): pyproject.toml requirements-lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11, 5))' || { \
	  echo "Python 3.11.5 or newer is needed ($(PYTHON) is $$($(PYTHON) --version 2>&1)); set PYTHON=python3.12 or similar."; \
	  exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint requirements-lock.txt --editable ".[test]"
	touch $@

data: $(STAMP)
	$(BIN)/leukemia fetch --quiet

report: data
	$(BIN)/leukemia run

# The browser test needs Chrome or Chromium: find one (CHROME_PATH, PATH, the macOS bundles, playwright's),
# else install one (as root with apt-get, as CI does; else playwright's download), else say what to install.
browser: $(STAMP)
	@$(BIN)/python tests/find_browser.py

lint: $(STAMP)
	$(BIN)/ruff check leukemia tests notebooks benchmarks
	$(BIN)/ruff format --check leukemia tests benchmarks
	$(BIN)/mypy

# Both cores: pytest-xdist, one test module or notebook per worker (nbval needs a notebook's
# cells in order in one kernel, which --dist loadscope guarantees).
test: data lint browser
	$(BIN)/python -m pytest -n 2 --dist loadscope tests notebooks $(NBVAL)

# The fast tier, for the edit-test loop: everything but the tests marked slow (notebook runs, kernels,
# exercises, Dask, benchmarks, the install, nbval). make test stays the full tier that CI runs.
test-fast: data
	$(BIN)/python -m pytest -n 2 --dist loadscope -m "not slow" tests

# Mutation testing, not part of make test: mutmut plants one-line bugs in the modules that carry the
# science ([tool.mutmut] in pyproject.toml) and runs the fast tier's tests that reach each one, in a copy
# of the checkout (mutants/); then a score per module. A run resumes where the last one stopped; remove
# mutants/ to start afresh. MUTANTS narrows it by mutant name: make mutation MUTANTS='leukemia.stats.*'.
# The copy's tests find the bladder data through LEUKEMIA_BLADDER_DIR (the checkout's ../shared by default).
MUTANTS ?=
mutation: data
	$(BIN)/python -m pip install --quiet --constraint requirements-lock.txt --editable ".[test,mutation]"
	LEUKEMIA_BLADDER_DIR="$(abspath $(or $(LEUKEMIA_BLADDER_DIR),../shared/data/bladder2004))" \
	  $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python tests/mutation_report.py

lab: data
	cd notebooks && ../$(BIN)/jupyter lab

# Maintainers: after editing a notebook, re-execute it with default parameters and strip
# volatile metadata, so the committed outputs are what nbval checks against. The engine (the package's
# papermill entry point) also evaluates the prose's {eval} expressions into the Markdown cells' metadata.
# One notebook: make notebooks NOTEBOOKS=notebooks/05_modeling.ipynb
notebooks: data
	@set -e; for nb in $(NOTEBOOKS); do \
	  echo "executing $$nb"; \
	  $(BIN)/papermill --engine leukemia-inline --kernel python3 --log-level WARNING --no-progress-bar "$$nb" "$$nb"; \
	  $(BIN)/python -m leukemia.inline "$$nb"; \
	  $(BIN)/nbstripout --keep-output --keep-count \
	    --extra-keys "metadata.papermill cell.metadata.papermill cell.metadata.execution" "$$nb"; \
	done

# The three benchmarks of benchmarks/README.md (about 5 minutes; not part of make test).
bench: data
	$(BIN)/python benchmarks/bench_selection.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_scale.py

# Maintainers: re-resolve requirements-lock.txt after changing pyproject.toml's dependencies. uv resolves
# for every platform and Python at once (markers in the file), and keeps each version the file pins while
# it still satisfies pyproject.toml; `make lock UPGRADE=--upgrade` moves them all (then `make notebooks`:
# the committed outputs were produced with the pinned versions). No hashes: make installs the project
# itself against the file as pip constraints, and a constraint with a hash puts pip in hash-checking mode
# for everything, the project included, which has none.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet "uv>=0.9"
	$(BIN)/uv pip compile pyproject.toml --extra test --extra mutation --universal --python-version 3.11 --quiet \
	  --output-file requirements-lock.txt $(UPGRADE)

clean:
	rm -rf $(VENV) reports mutants .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
