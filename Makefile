# JWT Lab Kit: the whole set-up is `make lab` (learn) or `make test` (check).
# Needs only Python 3.10+; everything else goes into .venv and .cache inside this folder.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8888
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CACHE := $(CURDIR)/.cache

# Keep Jupyter, IPython and matplotlib state inside the checkout, not in $HOME.
export JUPYTER_CONFIG_DIR := $(CACHE)/jupyter/config
export JUPYTER_DATA_DIR := $(CACHE)/jupyter/data
export JUPYTER_RUNTIME_DIR := $(CACHE)/jupyter/runtime
export JUPYTERLAB_WORKSPACES_DIR := $(CACHE)/jupyter/workspaces
export IPYTHONDIR := $(CACHE)/ipython
export MPLCONFIGDIR := $(CACHE)/matplotlib
# jupyter-lsp runs `npm prefix --global` at start-up; npm writes its debug log under its cache.
export npm_config_cache := $(CACHE)/npm
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export LABKIT_STRICT_EXERCISES := 1

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval-sanitize.cfg

.PHONY: lab learner test install dirs lint unit notebooks execute clean

install: $(STAMP)

# Jupyter and IPython warn when their state folders are missing.
dirs:
	mkdir -p $(IPYTHONDIR) $(MPLCONFIGDIR) $(JUPYTER_RUNTIME_DIR)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Extra JupyterLab flags, e.g. `make lab LAB_ARGS=--no-browser` on a server.
LAB_ARGS ?=
# Which edition `make lab` opens: learner (starter code, no stored answers; the default) or
# instructor (`make lab EDITION=instructor`: the solved copies in notebooks/). Lab serves the
# whole checkout either way, so learner/, notebooks/ and docs/ are all in its file browser.
EDITION ?= learner
START_learner := learner/00-start-here.ipynb
START_instructor := notebooks/00-start-here.ipynb
START = $(START_$(EDITION))

lab: $(STAMP) dirs
	@test -n "$(START)" || { echo "make lab: EDITION=$(EDITION)? use learner or instructor" >&2; exit 2; }
	LABKIT_STRICT_EXERCISES= $(BIN)/jupyter lab --ip $(HOST) --port $(PORT) \
		--ServerApp.root_dir="$(CURDIR)" $(LAB_ARGS) $(START)

# The learner edition, committed in learner/ (what every learner link opens): run after changing
# anything in notebooks/ (tests/test_workshop.py fails until you do). It first puts the
# instructor-only banner at the top of every instructor notebook (again: it is idempotent).
learner: $(STAMP)
	$(BIN)/python -c "from labkit import workshop; workshop.mark_instructor_copies('notebooks')"
	$(BIN)/labkit workshop build learner/

test: lint unit notebooks

lint: $(STAMP) dirs
	$(BIN)/ruff check .

unit: $(STAMP) dirs
	$(BIN)/pytest tests

# Strict nbval over the instructor copies. The learner edition stores no outputs, so nbval would
# compare nothing there; tests/test_workshop.py (in `make unit`) runs each learner notebook top to
# bottom in a real kernel instead and asserts every exercise reports "not attempted".
notebooks: $(STAMP) dirs
	$(BIN)/pytest $(NBVAL) notebooks

# Re-execute notebooks and store their outputs: `make execute` or `make execute NB=notebooks/01-*.ipynb`
NB ?= notebooks/*.ipynb
execute: $(STAMP) dirs
	for nb in $(NB); do $(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False "$$nb" || exit 1; done

clean:
	rm -rf $(VENV) $(CACHE) .pytest_cache .hypothesis

# --- AWS SAM CLI (issue 13): `sam validate --lint` for deploy/aws/template.yaml ----------------
# aws-sam-cli pins many packages of its own, so it lives in its own venv under .cache, never in
# the kit's .venv. tests/test_aws_sam.py runs it when it is there and otherwise skips, saying
# `make sam-cli`. Idempotent: the stamp is rebuilt only when the pinned version changes.
SAM_CLI_VERSION := 1.170.0
SAM_VENV := $(CACHE)/sam-cli
SAM_STAMP := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)

.PHONY: sam-cli
sam-cli: $(SAM_STAMP)

$(SAM_STAMP):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet "aws-sam-cli==$(SAM_CLI_VERSION)"
	rm -f $(SAM_VENV)/.installed-*
	touch $@
