"""The conda and Binder environments tell the same story as pyproject.toml.

Nothing here can solve a conda environment (no channel is reachable offline). What is checked:
the environment files list exactly the runtime dependencies of ``[project] dependencies`` with the
same lower bounds; repo2docker's dry run builds from ``binder/`` and runs ``binder/postBuild``;
and postBuild itself does what Binder needs (installs labkit, silences the news pop-up).
Last, a real wheel of labkit, installed without ``-e`` into a fresh venv, still finds its
package data (the demo keys, the SAM template notebook 09 prints).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # requires-python allows 3.10, which has no tomllib
    tomllib = pytest.importorskip(
        "tomli", reason="reading pyproject.toml on Python 3.10 needs tomli"
    )

ROOT = Path(__file__).resolve().parents[1]
ROOT_ENV = ROOT / "environment.yml"
BINDER_ENV = ROOT / "binder" / "environment.yml"
POST_BUILD = ROOT / "binder" / "postBuild"
ENV_FILES = [ROOT_ENV, BINDER_ENV]

# PyPI distribution -> conda-forge package, where the names differ after normalisation.
# PyJWT is `pyjwt` on conda-forge (normalisation covers it); conda-forge's `matplotlib` adds the
# Qt backend on top of `matplotlib-base`, which is the build of PyPI's matplotlib.
PYPI_TO_CONDA = {"pyjwt": "pyjwt", "matplotlib": "matplotlib-base"}

CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)\s*(?P<spec>.*)$")


def normalise(name: str) -> str:
    """PEP 503 normalisation: lower-case, runs of `-`, `_` and `.` become one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def lower_bound(specifier: SpecifierSet, what: str) -> Version:
    bounds = [spec for spec in specifier if spec.operator == ">="]
    assert len(bounds) == 1, f"{what}: expected exactly one `>=` lower bound, got {specifier!s}"
    return Version(bounds[0].version)


def runtime_requirements() -> dict[str, Version]:
    """pyproject's [project] dependencies as {conda-forge name: lower bound}."""
    wanted = {}
    for line in pyproject()["project"]["dependencies"]:
        req = Requirement(line)
        assert req.marker is None, f"{line!r}: environment markers have no conda equivalent"
        name = normalise(req.name)
        wanted[PYPI_TO_CONDA.get(name, name)] = lower_bound(req.specifier, line)
    return wanted


def load_env(path: Path) -> dict:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(env, dict), f"{path.relative_to(ROOT)}: not a YAML mapping"
    return env


def conda_specs(path: Path) -> dict[str, str]:
    """The `dependencies` of an environment file as {normalised name: version spec}."""
    specs = {}
    for dep in load_env(path)["dependencies"]:
        assert isinstance(dep, str), (
            f"{path.relative_to(ROOT)}: unexpected {dep!r}; keep everything in conda "
            "(a `pip:` section with `-e ..` resolves against a temporary folder on Binder)"
        )
        match = CONDA_SPEC.match(dep.strip())
        assert match, f"{path.relative_to(ROOT)}: cannot parse {dep!r}"
        name = normalise(match["name"])
        assert name not in specs, f"{path.relative_to(ROOT)}: {name} listed twice"
        specs[name] = match["spec"].replace(" ", "")
    return specs


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_environment_header(path: Path) -> None:
    env = load_env(path)
    assert env["name"] == "jwt-lab-kit"
    assert env["channels"] == ["conda-forge"]
    assert set(env) == {"name", "channels", "dependencies"}


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_environment_pins_python_and_lists_pip(path: Path) -> None:
    specs = conda_specs(path)
    python = specs.get("python", "")
    assert re.fullmatch(r"=3\.\d+", python), (
        f"pin python explicitly as `python=3.X`, got {('python' + python)!r}"
    )
    requires_python = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version(python[1:]) in requires_python, f"python{python} vs {requires_python}"
    assert "pip" in specs, "list `pip` so that postBuild's `python -m pip` is conda's pip"


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_environment_matches_pyproject_dependencies(path: Path) -> None:
    specs = conda_specs(path)
    listed = {name: spec for name, spec in specs.items() if name not in {"python", "pip"}}
    wanted = runtime_requirements()
    assert sorted(listed) == sorted(wanted), "same packages as [project] dependencies"
    for name, bound in wanted.items():
        assert listed[name].startswith(">="), (
            f"{name}: give a `>=` lower bound, got {listed[name]!r}"
        )
        got = lower_bound(SpecifierSet(listed[name]), f"{path.name}: {name}")
        assert got == bound, f"{name}: {path.name} says >={got}, pyproject.toml says >={bound}"


def test_environment_files_agree() -> None:
    assert load_env(ROOT_ENV) == load_env(BINDER_ENV)


@pytest.fixture(scope="module")
def repo2docker_dry_run() -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "repo2docker"
    assert exe.exists(), f"{exe} not found: install the test extras (pip install -e '.[test]')"
    start = time.perf_counter()
    result = subprocess.run(
        [str(exe), "--no-build", "--no-run", "--debug", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.perf_counter() - start
    print(f"repo2docker dry run: {elapsed:.2f} s")
    assert result.returncode == 0, result.stderr
    return result


def test_repo2docker_builds_from_binder_folder(repo2docker_dry_run) -> None:
    # The Dockerfile goes to stdout; repo2docker's own log lines go to stderr.
    dockerfile = repo2docker_dry_run.stdout
    assert dockerfile.lstrip().startswith("FROM "), dockerfile[:500]
    assert "Building conda environment for python=3." in repo2docker_dry_run.stderr
    assert re.search(r"^COPY .*src/binder/environment\.yml ", dockerfile, re.M)
    assert '--file "binder/environment.yml"' in dockerfile
    # Every mention of an environment.yml is the binder one: the root file is for local conda.
    prefixes = re.findall(r"(\S*)environment\.yml", dockerfile)
    assert prefixes
    assert all(prefix.endswith("binder/") for prefix in prefixes), prefixes


def test_repo2docker_runs_post_build(repo2docker_dry_run) -> None:
    assert re.search(r"^RUN \./binder/postBuild$", repo2docker_dry_run.stdout, re.M)


def post_build_commands() -> list[list[str]]:
    lines = POST_BUILD.read_text(encoding="utf-8").splitlines()
    return [shlex.split(line) for line in lines[1:] if line.strip() and not line.startswith("#")]


def test_post_build_is_an_executable_strict_bash_script() -> None:
    assert os.access(POST_BUILD, os.X_OK), "chmod +x binder/postBuild"
    assert POST_BUILD.read_text(encoding="utf-8").splitlines()[0] == "#!/bin/bash"
    first = post_build_commands()[0]
    assert first[:1] == ["set"] and first[1].startswith("-e"), f"starts with `set -e`: {first}"


def test_post_build_installs_labkit_without_dependencies() -> None:
    installs = [
        cmd for cmd in post_build_commands() if cmd[:4] == ["python", "-m", "pip", "install"]
    ]
    assert len(installs) == 1, installs
    args = installs[0][4:]
    assert "--no-deps" in args, "every dependency comes from environment.yml"
    assert any(a == "-e" and b == "." for a, b in itertools.pairwise(args)), args


def test_post_build_runs_and_silences_jupyterlab_news(tmp_path: Path) -> None:
    """Run the real script with a `python` that records pip calls instead of installing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pip_log = tmp_path / "pip-calls.txt"
    shim = bin_dir / "python"
    shim.write_text(
        "#!/bin/bash\n"
        'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
        f'  echo "$*" >> {shlex.quote(str(pip_log))}\n'
        "  exit 0\n"
        "fi\n"
        f'exec {shlex.quote(sys.executable)} "$@"\n',
        encoding="utf-8",
    )
    shim.chmod(0o755)
    app_dir = tmp_path / "lab"
    settings = app_dir / "settings" / "overrides.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"x": 1}}))
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "JUPYTERLAB_DIR": str(app_dir),
        "HOME": str(home),
    }

    subprocess.run(["bash", str(POST_BUILD)], cwd=ROOT, env=env, check=True, timeout=60)

    assert pip_log.read_text().split() == ["-m", "pip", "install", "--no-deps", "-e", "."]
    overrides = json.loads(settings.read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
    assert overrides["@jupyterlab/apputils-extension:themes"] == {"x": 1}, "merged, not replaced"


# A real wheel, installed without -e: what a learner gets from `pip install labkit-*.whl`.


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build labkit's wheel from a copy of the sources and install it into a fresh venv.

    The venv sees the kit venv's third-party packages through a ``.pth`` path line (PyJWT,
    cryptography, ...: no download), but not its editable labkit: ``.pth`` files inside a
    folder added that way are never run, so labkit comes from the wheel alone.
    """
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT / "labkit", src / "labkit", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    dist = tmp / "dist"
    start = time.perf_counter()
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = dist.glob("labkit-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    (site,) = venv.glob("lib/python*/site-packages")
    kit_site = sysconfig.get_paths()["purelib"]  # the running venv's site-packages
    (site / "kit-venv.pth").write_text(f"{kit_site}\n", encoding="utf-8")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    print(f"wheel built and installed in {time.perf_counter() - start:.1f} s")
    return python


def run_installed(python: Path, code: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # not this checkout
    result = subprocess.run(
        [str(python), "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_wheel_ships_the_sam_template(wheel_venv: Path, tmp_path: Path) -> None:
    """Notebook 09 prints the template with ``labkit.aws.sam_template()``: from a wheel too."""
    out = run_installed(
        wheel_venv,
        "import json, labkit, labkit.aws; from pathlib import Path;"
        "print(json.dumps({'file': labkit.__file__, 'template': labkit.aws.sam_template(),"
        " 'checkout': (Path(labkit.__file__).parents[1] / 'deploy').exists()}))",
        cwd=tmp_path,
    )
    found = json.loads(out)
    assert Path(found["file"]).is_relative_to(wheel_venv.parents[1]), found["file"]
    assert not found["checkout"], "an installed labkit has no deploy/ folder beside it"
    assert found["template"] == (ROOT / "deploy" / "aws" / "template.yaml").read_text("utf-8")


def test_the_wheel_runs_the_verifier_and_the_authorizer(wheel_venv: Path, tmp_path: Path) -> None:
    """Package data (the demo keys) and the lazily loaded modules work from the wheel."""
    out = run_installed(
        wheel_venv,
        "import labkit, labkit.aws;"
        "from labkit.aws.authorizer import handler;"
        "print(callable(handler), labkit.examples.__name__, labkit.aws.serve.__name__)",
        cwd=tmp_path,
    )
    assert out.split() == ["True", "labkit.examples", "serve"]
