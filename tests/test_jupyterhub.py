"""Ten learners at once on a real JupyterHub, through the instructor guide's nbgitpuller link.

JupyterHub (deploy/jupyterhub/jupyterhub_config.py, the file instructors start) with its pinned
configurable-http-proxy, the shared-password authenticator and local-process spawner, all on
127.0.0.1. A git daemon on loopback serves this checkout's HEAD in place of GitHub. Nine learners
work over plain HTTP: log in through the guide's link, let nbgitpuller clone the kit, land on
the learner edition's start notebook (which must hold starter code and no answers), and run
notebook 00's environment check through the kernel websocket. The tenth does the same in
headless Chromium, where the "Jupyter news" pop-up must not appear.

Needs node and npm for the proxy (the test runs `npm ci` if `make hub-deps` has not); without
them it skips and says why, unless LABKIT_REQUIRE_NODE is set (CI), which makes that a failure.
Every process it starts is stopped at the end, passed or failed. Each learner's server and kernel
must fit in the memory z2jh-config.yaml guarantees; that file is not run here (no Kubernetes),
but its values and the image recipe (repo2docker's Dockerfile, a dry run) are checked below.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path, PurePosixPath

import hubrun
import pytest
import yaml
from labserver import ROOT
from test_browser import CHROMIUM, CHROMIUM_ARGS, KERNEL_READY

import labkit.progress
from labkit import exercises

LEARNERS = 10
BROWSER_LEARNER = "learner-10"
START_NOTEBOOK = "learner/00-start-here.ipynb"  # what the guide's link must open
TIMEOUT_MS = int(hubrun.STEP_TIMEOUT * 1000)
EDITING_LEARNER = "learner-01"  # edits an exercise, then clicks the link again
MY_ANSWER = 'answer = ["header", "payload", "signature"]'
MB = 1024 * 1024
Z2JH = hubrun.DEPLOY / "z2jh-config.yaml"
APPENDIX = hubrun.DEPLOY / "repo2docker-appendix"
NEWS_PROMPT = "official Jupyter news"  # JupyterLab's pop-up asks "...get notified about..."

RUN_ENV_CHECK = """(source) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.widgets;
  const index = cells.findIndex(cell => cell.model.sharedModel.getSource() === source);
  if (index < 0) return false;
  panel.content.activeCellIndex = index;
  window.jupyterapp.commands.execute('notebook:run-cell');
  return true;
}"""
CELL_OUTPUT = """(source) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cell = panel.content.widgets.find(c => c.model.sharedModel.getSource() === source);
  if (cell.model.executionCount === null || panel.sessionContext.session.kernel.status !== 'idle')
    return null;
  const outputs = [];
  for (let i = 0; i < cell.model.outputs.length; i++) {
    outputs.push(cell.model.outputs.get(i).toJSON());
  }
  return outputs;
}"""


def _node_or_skip() -> None:
    missing = hubrun.missing_node()
    if missing:
        if os.environ.get("LABKIT_REQUIRE_NODE"):
            pytest.fail(f"LABKIT_REQUIRE_NODE is set, but {missing}")
        pytest.skip(f"{missing}: the hub's configurable-http-proxy runs on Node.js")


def assert_learner_edition(notebook: dict, where: str) -> None:
    """Starter code in every exercise cell, no solution anywhere, no stored outputs."""
    bank = exercises.all_exercises()
    spots = 0
    for index, cell in enumerate(notebook["cells"]):
        at = f"{where}, cell {index}"
        exercise_id = cell["metadata"].get("labkit", {}).get("exercise")
        if exercise_id is not None:
            spots += 1
            assert cell["source"] == exercises.get(exercise_id).starter, f"{at}: not the starter"
        for other in bank.values():
            assert other.solution.strip() not in cell["source"], f"{at}: {other.id}'s solution"
        assert "solution" not in cell["metadata"].get("tags", []), f"{at}: tagged solution"
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{at}: stored outputs (the answers)"
    assert spots >= 2, f"{where}: no exercises found"


def assert_cloned_this_checkout(hub: hubrun.Hub, name: str, clone: str) -> None:
    """The clone in the learner's home is this checkout's HEAD, on branch main."""
    folder = hub.homes / name / clone
    head = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    ours = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert head == [ours, "main"], f"{name}: {folder} is at {head}, this checkout at {ours}"


def http_learner(hub: hubrun.Hub, link: str, name: str) -> dict[str, float]:
    """One learner over HTTP: link, login, spawn, clone, the start notebook, the check cell."""
    fields = hubrun.link_fields(link)
    learner = hubrun.Learner(hub, name)
    learner.follow_link(link)
    path = learner.pull()
    assert path == fields["urlpath"], f"{name}: nbgitpuller sends the browser to {path}"
    page = learner.get(path)
    assert page.status_code == 200 and "jupyter-config-data" in page.text, f"{name}: {path}"
    notebook_path = path.removeprefix("lab/tree/")
    assert PurePosixPath(notebook_path).relative_to(hubrun.CLONE_NAME) == PurePosixPath(
        START_NOTEBOOK
    ), f"{name}: the link opens {notebook_path}, not the learner start page"
    notebook = learner.notebook(notebook_path)
    assert_learner_edition(notebook, f"{name}: {notebook_path}")
    assert_cloned_this_checkout(hub, name, hubrun.CLONE_NAME)
    settings = learner.get("lab/api/settings/@jupyterlab/apputils-extension:notification")
    assert settings.status_code == 200, f"{name}: lab settings: {settings.status_code}"
    # overrides.json becomes the schema's default, which a learner's own setting could change
    news = settings.json()["schema"]["properties"]["fetchNews"]["default"]
    assert news == "false", f"{name}: JupyterLab would ask to fetch news ({news!r})"
    start = time.monotonic()
    with learner.kernel(notebook_path) as kernel:
        cell = kernel.run(hubrun.env_check_source(notebook))
        learner.times["first cell"] = time.monotonic() - start
        memory = sum(hub.memory(name))
        # An exercise, for LABKIT_PROGRESS_DIR: odd learners solve 00.1, even ones get it wrong.
        solved = int(name.rsplit("-", 1)[1]) % 2 == 1
        answer = exercises.get("00.1").solution if solved else 'answer = ["header", "body"]'
        verdict = kernel.run(f'{answer}\ncheck("00.1", answer)')
    assert (verdict.status, verdict.error) == ("ok", ""), f"{name}: check: {verdict}"
    expected = "✅ 00.1 correct" if solved else "❌ 00.1 not yet"
    assert verdict.text.startswith(expected), f"{name}: check printed {verdict.text!r}"
    assert (cell.status, cell.error) == ("ok", ""), f"{name}: {cell}\n{hub.logs()}"
    assert hubrun.ENV_READY in cell.text, f"{name}: the check printed {cell.text!r}"
    if name == EDITING_LEARNER:
        learner_edits_then_follows_the_link_again(learner, link, notebook_path, notebook)
    return {**learner.times, "MB": memory / MB}


def learner_edits_then_follows_the_link_again(
    learner: hubrun.Learner, link: str, path: str, notebook: dict
) -> None:
    """The guide's promise: clicking the link again pulls without overwriting a learner's work."""
    cell = next(c for c in notebook["cells"] if c["metadata"].get("labkit", {}).get("exercise"))
    cell["source"] = MY_ANSWER
    learner.save_notebook(path, notebook)
    clone = learner.times["clone"]
    learner.follow_link_again(link)
    learner.pull()
    learner.times["clone"], learner.times["pull again"] = clone, learner.times["clone"]
    kept = [c["source"] for c in learner.notebook(path)["cells"]]
    assert MY_ANSWER in kept, f"{learner.name}: the second pull overwrote the learner's answer"


def browser_learner(hub: hubrun.Hub, link: str, name: str) -> dict[str, float]:
    """One learner in headless Chromium: log in, wait for the clone, run the check cell."""
    from playwright import sync_api

    # Only this learner's Lab exposes window.jupyterapp (to wait for the kernel): a config file
    # in the home folder the spawner is about to use; the hub's own config stays as shipped.
    config = hub.homes / name / ".jupyter" / "jupyter_server_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"LabApp": {"expose_app_in_browser": True}}), encoding="utf-8")
    start = time.monotonic()
    target = f"**/user/{name}/{hubrun.link_fields(link)['urlpath']}"
    with sync_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(link)
            page.fill("#username_input", name)
            page.fill("#password_input", hub.password)
            page.click("#login_submit")
            page.wait_for_url(target, timeout=TIMEOUT_MS)  # spawn page, nbgitpuller, then Lab
            page.wait_for_function(KERNEL_READY, timeout=TIMEOUT_MS)
            source = hubrun.env_check_source(
                {
                    "cells": page.evaluate(
                        "() => window.jupyterapp.shell.currentWidget.content.model.toJSON().cells"
                    )
                }
            )
            assert page.evaluate(RUN_ENV_CHECK, source), f"{name}: no environment-check cell"
            outputs = page.wait_for_function(CELL_OUTPUT, arg=source, timeout=TIMEOUT_MS)
            text = "".join(
                "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
                for out in outputs.json_value()
            )
            assert hubrun.ENV_READY in text, f"{name}: the check cell showed {text!r}"
            assert NEWS_PROMPT not in page.inner_text("body"), f"{name}: the news pop-up is up"
            shot = ROOT / "test-output" / "hub-chromium.png"
            shot.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert_cloned_this_checkout(hub, name, hubrun.CLONE_NAME)
    return {"browser": time.monotonic() - start}


def test_ten_learners_follow_the_guide_link_and_run_notebook_00(tmp_path: Path) -> None:
    _node_or_skip()
    # Without Chromium (or playwright) the tenth learner works over HTTP too, and the run says so.
    use_browser = CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None
    hubrun.ensure_proxy()
    start = time.monotonic()
    with hubrun.git_daemon(tmp_path) as git, hubrun.jupyterhub(tmp_path) as hub:
        link = hubrun.local_link(hubrun.guide_link(), hub.url, git)
        names = [f"learner-{n:02d}" for n in range(1, LEARNERS + 1)]
        with ThreadPoolExecutor(max_workers=LEARNERS) as pool:
            runs = {
                name: pool.submit(
                    browser_learner if name == BROWSER_LEARNER and use_browser else http_learner,
                    hub,
                    link,
                    name,
                )
                for name in names
            }
            times = {name: run.result() for name, run in runs.items()}
        assert set(hub.servers()) == set(names), "every learner has a running server"
    # z2jh-config.yaml's memory guarantee was sized from these figures: it must still hold them.
    guarantee = megabytes(z2jh_values()["singleuser"]["memory"]["guarantee"])
    used = {name: steps["MB"] for name, steps in times.items() if "MB" in steps}
    assert max(used.values()) < guarantee, f"server + kernel (MB) outgrew z2jh's guarantee: {used}"
    wall = time.monotonic() - start
    report = the_room_s_progress(hub.progress, [n for n in names if n != BROWSER_LEARNER])
    print(f"\nhub test: {LEARNERS} learners in {wall:.1f} s\n{report}")
    for name, steps in times.items():
        print(f"  {name}: " + ", ".join(f"{step} {sec:.1f}" for step, sec in steps.items()))
    if not use_browser:
        print(f"  (no Chromium at {CHROMIUM} or no playwright: {BROWSER_LEARNER} used HTTP)")


LABKIT = str(Path(sys.executable).with_name("labkit"))  # the console script of this venv


def the_room_s_progress(folder: Path, checkers: list[str]) -> str:
    """What ``labkit workshop progress`` says after every learner but one ran ``check("00.1")``.

    Each server had ``LABKIT_PROGRESS_DIR`` from the hub's config and its own ``JUPYTERHUB_USER``:
    one file per learner, odd learners passed, even ones failed, nothing for the browser learner.
    """
    progress = labkit.progress.read(folder)
    states = progress.states()
    assert sorted(states) == sorted(checkers), f"progress files for {sorted(states)}"
    expected = {
        name: "passed" if int(name.rsplit("-", 1)[1]) % 2 == 1 else "failed" for name in checkers
    }
    assert {name: states[name]["00.1"] for name in states} == expected
    assert progress.skipped == 0 and not progress.unreadable
    cli = subprocess.run(
        [LABKIT, "workshop", "progress", str(folder), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert cli.returncode == 0, cli.stderr
    stuck = {row["exercise"]: row["users"] for row in json.loads(cli.stdout)["stuck"]}
    failed = sorted(name for name, status in expected.items() if status == "failed")
    assert sorted(stuck["00.1"]) == failed, f"where the room is stuck: {stuck}"
    table = subprocess.run(
        [LABKIT, "workshop", "progress", str(folder)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return table.stdout


def z2jh_values() -> dict:
    return yaml.safe_load(Z2JH.read_text(encoding="utf-8"))


def megabytes(quantity: str) -> float:
    """A Kubernetes memory quantity in MB: 512M, 1G, 1Gi, 900Mi."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(M|G|Mi|Gi)", quantity)
    assert match, f"not a memory quantity z2jh accepts here: {quantity!r}"
    scale = {"M": 1e6, "G": 1e9, "Mi": 2**20, "Gi": 2**30}[match[2]]
    return float(match[1]) * scale / MB


def test_z2jh_config_sizes_culls_and_keeps_the_password_out() -> None:
    """Untested on Kubernetes here: at least the values the README relies on are there."""
    values = z2jh_values()
    single = values["singleuser"]
    assert megabytes(single["memory"]["guarantee"]) < megabytes(single["memory"]["limit"])
    assert 0 < single["cpu"]["guarantee"] < single["cpu"]["limit"]
    assert values["cull"]["enabled"] and values["cull"]["timeout"] >= 1800
    assert values["prePuller"]["hook"]["enabled"] and values["prePuller"]["continuous"]["enabled"]
    assert single["extraEnv"]["LABKIT_PROGRESS_DIR"].startswith("/")
    assert single["defaultUrl"] == "/lab"
    hub = values["hub"]["config"]
    assert hub["JupyterHub"]["authenticator_class"] == "shared-password"
    assert "SharedPasswordAuthenticator" not in hub, "the room's password goes in with --set"
    assert single["image"]["tag"] not in ("latest", ""), "a fixed image tag per workshop"


def test_z2jh_image_is_built_from_binder_and_adds_nbgitpuller() -> None:
    """repo2docker's Dockerfile for the image (a dry run, no Docker): binder/ plus nbgitpuller."""
    exe = Path(sys.executable).parent / "repo2docker"
    assert exe.exists(), f"{exe} not found: install the test extras (pip install -e '.[test]')"
    appendix = APPENDIX.read_text(encoding="utf-8").strip()
    command = [str(exe), "--no-build", "--no-run", "--debug", "--appendix", appendix, "."]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    dockerfile = result.stdout
    assert '--file "binder/environment.yml"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    assert dockerfile.rstrip().endswith(appendix), "the appendix runs last"
    # The same nbgitpuller the local hub test ran (the venv's), installed into the image's env.
    pinned = re.search(r"nbgitpuller==(\S+)", appendix)
    assert pinned and pinned[1] == metadata.version("nbgitpuller"), appendix
    assert "${NB_PYTHON_PREFIX}/bin/python -m pip install" in appendix
