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

.PHONY: lab test install dirs lint unit notebooks execute clean

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

lab: $(STAMP) dirs
	LABKIT_STRICT_EXERCISES= $(BIN)/jupyter lab --ip $(HOST) --port $(PORT) $(LAB_ARGS) \
		notebooks/00-start-here.ipynb

test: lint unit notebooks

lint: $(STAMP) dirs
	$(BIN)/ruff check .

unit: $(STAMP) dirs
	$(BIN)/pytest tests

notebooks: $(STAMP) dirs
	$(BIN)/pytest $(NBVAL) notebooks

# Re-execute notebooks and store their outputs: `make execute` or `make execute NB=notebooks/01-*.ipynb`
NB ?= notebooks/*.ipynb
execute: $(STAMP) dirs
	for nb in $(NB); do $(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False "$$nb" || exit 1; done

clean:
	rm -rf $(VENV) $(CACHE) .pytest_cache .hypothesis
