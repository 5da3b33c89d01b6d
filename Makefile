# JWT Lab Kit: the whole set-up is `make lab` (learn) or `make test` (check).
# Needs only Python 3.10+; everything else goes into .venv and .cache inside this folder.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8888
VENV := .venv
BIN := $(VENV)/bin
# Two installs, two stamps: `make lab` needs only the runtime dependencies (pip install -e .);
# `make test` adds the test tools on top (pip install -e '.[test]'). Either order installs each
# part once.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# JupyterLab's "fetch Jupyter news?" pop-up off, for this venv's Lab (binder/no_news.py).
NO_NEWS := $(VENV)/share/jupyter/lab/settings/overrides.json
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

.PHONY: lab learner test install install-test dirs lint unit notebooks execute clean bench-jwt-tool

# What `make lab` needs; `make install-test` adds what `make test` needs.
install: $(STAMP) $(NO_NEWS)
install-test: install $(TEST_STAMP)

# Jupyter and IPython warn when their state folders are missing.
dirs:
	mkdir -p $(IPYTHONDIR) $(MPLCONFIGDIR) $(JUPYTER_RUNTIME_DIR)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[browser]'
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

$(NO_NEWS): binder/no_news.py $(STAMP)
	$(BIN)/python binder/no_news.py $(NO_NEWS)

# Extra JupyterLab flags, e.g. `make lab LAB_ARGS=--no-browser` on a server.
LAB_ARGS ?=
# Which edition `make lab` opens: learner (starter code, no stored answers; the default) or
# instructor (`make lab EDITION=instructor`: the solved copies in notebooks/). Lab serves the
# whole checkout either way, so learner/, notebooks/ and docs/ are all in its file browser.
EDITION ?= learner
START_learner := learner/00-start-here.ipynb
START_instructor := notebooks/00-start-here.ipynb
START = $(START_$(EDITION))
# Jupyter refuses to run as root without --allow-root; containers, cloud VMs and workshop images
# often are root, so pass it there (and only there).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# LabApp.default_url (not a positional path, whose printed URL is the Launcher's /lab, and not
# ServerApp.default_url, which JupyterLab overrides with its own) makes the printed URL, the
# browser it opens and a bare http://HOST:PORT/ all land on the start notebook.
lab: install dirs
	@test -n "$(START)" || { echo "make lab: EDITION=$(EDITION)? use learner or instructor" >&2; exit 2; }
	@test -f "$(START)" || { echo "make lab: $(START) is missing (make learner builds learner/)" >&2; exit 2; }
	LABKIT_STRICT_EXERCISES= $(BIN)/jupyter lab --ip $(HOST) --port $(PORT) $(ALLOW_ROOT) \
		--ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/$(START) $(LAB_ARGS)

# The learner edition, committed in learner/ (what every learner link opens): run after changing
# anything in notebooks/ (tests/test_workshop.py fails until you do). It first puts the
# instructor-only banner at the top of every instructor notebook (again: it is idempotent).
learner: install
	$(BIN)/python -c "from labkit import workshop; workshop.mark_instructor_copies('notebooks')"
	$(BIN)/labkit workshop build learner/

test: lint unit notebooks

lint: install-test dirs
	$(BIN)/ruff check .

unit: install-test dirs node-deps sam-cli hub-deps
	$(BIN)/pytest tests

# Strict nbval over the instructor copies. The learner edition stores no outputs, so nbval would
# compare nothing there; tests/test_workshop.py (in `make unit`) runs each learner notebook top to
# bottom in a real kernel instead and asserts every exercise reports "not attempted".
notebooks: install-test dirs
	$(BIN)/pytest $(NBVAL) notebooks

# Re-execute notebooks and store their outputs: `make execute` or `make execute NB=notebooks/01-*.ipynb`
NB ?= notebooks/*.ipynb
execute: install dirs
	for nb in $(NB); do $(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False "$$nb" || exit 1; done

clean:
	rm -rf $(VENV) $(CACHE) .pytest_cache .hypothesis deploy/article-node/node_modules deploy/jupyterhub/node_modules

# --- jwt_tool against every preset (bench/jwt_tool_presets.py) ---------------------------------
# Real jwt_tool 2.2.7 (ticarpi/jwt_tool at JWT_TOOL_COMMIT), never part of the kit: put its
# repository in $(JWT_TOOL) (git clone https://github.com/ticarpi/jwt_tool, then check out
# JWT_TOOL_COMMIT). Its requirements go into a venv of its own there; its ~/.jwt_tool goes to
# $(JWT_TOOL)/home. Not part of `make test`: it needs that checkout.
JWT_TOOL := $(CACHE)/jwt_tool
JWT_TOOL_COMMIT := e4f380fea78630b87f9e54369b33a3ea645ea45f
bench-jwt-tool: $(STAMP)
	@test -f $(JWT_TOOL)/jwt_tool.py || { echo "put jwt_tool $(JWT_TOOL_COMMIT) in $(JWT_TOOL) first"; exit 2; }
	test -x $(JWT_TOOL)/venv/bin/python || $(PYTHON) -m venv $(JWT_TOOL)/venv
	$(JWT_TOOL)/venv/bin/pip install -q -r $(JWT_TOOL)/requirements.txt
	$(BIN)/python bench/jwt_tool_presets.py $(JWT_TOOL)
	$(BIN)/python bench/jwt_tool_presets.py --defaults $(JWT_TOOL)

# --- The source article's Node.js authorizer, run for real (deploy/article-node) -----------------
# `make node-deps` installs the jsonwebtoken its package-lock.json pins, with `npm ci` (exact
# versions and integrity hashes from the lockfile, no install scripts), into
# deploy/article-node/node_modules; npm's cache is $(CACHE)/npm (npm_config_cache, above). It runs
# again only when package.json or the lockfile change. Needs node and npm (Debian: `apt-get install
# nodejs npm`); without them tests/test_aws_article_node.py skips and says why.
ARTICLE_NODE := deploy/article-node
ARTICLE_NODE_STAMP := $(ARTICLE_NODE)/node_modules/.labkit-installed

.PHONY: node-deps
node-deps: $(ARTICLE_NODE_STAMP)

$(ARTICLE_NODE_STAMP): $(ARTICLE_NODE)/package.json $(ARTICLE_NODE)/package-lock.json
	@command -v npm >/dev/null || { echo "make node-deps: npm not found (Debian: apt-get install nodejs npm)" >&2; exit 2; }
	npm ci --prefix $(ARTICLE_NODE) --ignore-scripts --no-audit --no-fund
	touch $@

# --- The printable handout (docs/handout.md) -----------------------------------------------------
# `make handout` prints docs/handout.md (styled by docs/handout.css) to an A4 PDF in headless
# Chromium, as tests/test_handout.py does in a temp folder: build/handout.pdf, not committed, so it
# never goes stale. Needs Debian's chromium (/usr/bin/chromium) and the test tools (playwright).
.PHONY: handout
handout: install-test
	@mkdir -p build
	$(BIN)/python tests/test_handout.py build/handout.pdf

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

# --- A local JupyterHub for a workshop room (deploy/jupyterhub) ---------------------------------
# `make hub-deps` installs the configurable-http-proxy that deploy/jupyterhub/package-lock.json
# pins, with `npm ci` (no install scripts), into deploy/jupyterhub/node_modules; it runs again only
# when package.json or the lockfile change. tests/test_jupyterhub.py needs it (and runs the same
# `npm ci` itself if this has not run); without node and npm that test skips and says why.
# `make hub HUB_PASSWORD=...` starts the hub on http://$(HOST):$(HUB_PORT) for a room; see
# deploy/jupyterhub/README.md. `make bench-hub` measures it with 10 learners (bench/hub.py).
HUB_DIR := deploy/jupyterhub
HUB_STAMP := $(HUB_DIR)/node_modules/.labkit-installed
HUB_PORT ?= 8000
HUB_PASSWORD ?=

.PHONY: hub-deps hub bench-hub
hub-deps: $(HUB_STAMP)

$(HUB_STAMP): $(HUB_DIR)/package.json $(HUB_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "make hub-deps: npm not found (Debian: apt-get install nodejs npm)" >&2; exit 2; }
	npm ci --prefix $(HUB_DIR) --ignore-scripts --no-audit --no-fund
	touch $@

hub: install-test dirs hub-deps
	@test -x $(BIN)/jupyterhub || { echo "make hub: no jupyterhub in $(VENV) (pip install jupyterhub nbgitpuller, or make install)" >&2; exit 2; }
	LABKIT_HUB_PASSWORD="$(HUB_PASSWORD)" LABKIT_HUB_PORT=$(HUB_PORT) LABKIT_STRICT_EXERCISES= \
		$(BIN)/jupyterhub -f $(HUB_DIR)/jupyterhub_config.py

bench-hub: install-test dirs hub-deps
	$(BIN)/python bench/hub.py

# --- labkit scan against real jwt_tool, preset by preset (bench/scanner_vs_jwt_tool.py) ---------
# Requests, wall time and flaws found per preset for both tools, and their ratios, in one run.
# Uses the same jwt_tool checkout as bench-jwt-tool ($(JWT_TOOL) at JWT_TOOL_COMMIT, with its
# requirements in a venv of its own there). Without that checkout it compares against the 571
# requests jwt_tool is known to send per target, and says so. Not part of `make test`.
.PHONY: bench-scanner-vs-jwt-tool
bench-scanner-vs-jwt-tool: $(STAMP)
	@if test -f $(JWT_TOOL)/jwt_tool.py; then \
		test -x $(JWT_TOOL)/venv/bin/python || $(PYTHON) -m venv $(JWT_TOOL)/venv; \
		$(JWT_TOOL)/venv/bin/pip install -q -r $(JWT_TOOL)/requirements.txt; \
		$(BIN)/python bench/scanner_vs_jwt_tool.py $(JWT_TOOL); \
	else \
		echo "no jwt_tool.py in $(JWT_TOOL) (put jwt_tool $(JWT_TOOL_COMMIT) there): known counts only"; \
		$(BIN)/python bench/scanner_vs_jwt_tool.py --counts; \
	fi

# --- JWE decryption throughput and attack work (bench/jwe.py) -----------------------------------
# labkit.jwe.decrypt against jwcrypto's decrypt (a test-only peer) per alg and enc, as ratios in
# one run, and the counted work of a huge-p2c token and a zip bomb, vulnerable vs hardened.
.PHONY: bench-jwe
bench-jwe: install-test
	$(BIN)/python bench/jwe.py

# Notebook 14, tokens in the browser: the cookie/CSRF/fingerprint gateway options, the scan's
# browser probes and the exercise banks, then the real-Chromium attacks (they skip, saying why,
# without /usr/bin/chromium). Screenshots go to test-output/.
.PHONY: test-browser-tokens
test-browser-tokens: install-test dirs
	$(BIN)/pytest -q tests/test_browser_api.py tests/test_banks_14.py tests/test_browser_tokens.py
	$(BIN)/pytest -q $(NBVAL) notebooks/14-tokens-in-the-browser.ipynb

# --- DPoP (notebook 15): proofs verified per second, replay cache memory (bench/dpop.py) --------
# `make bench-dpop` prints DPoP proofs verified per second for ES256, EdDSA and RS256 as ratios of
# labkit.verify on an access token of the same alg (same run), and the replay cache's bytes per
# entry at its bound (tracemalloc) with lookups per second at capacity. Tests for DPoP:
# tests/test_dpop.py tests/test_dpop_vectors.py tests/test_dpop_attacks.py tests/test_dpop_scan.py
# tests/test_banks_15.py (wire them into `make test`).
.PHONY: bench-dpop
bench-dpop: install-test
	$(BIN)/python bench/dpop.py
