"""Silence JupyterLab's "fetch Jupyter news?" pop-up and its update check, for this Python.

Both would reach beyond the machine, and the pop-up covers the start notebook. JupyterLab reads
<application dir>/settings/overrides.json as the defaults of its settings; the application dir
of a venv is <venv>/share/jupyter/lab, on Binder $NB_PYTHON_PREFIX/share/jupyter/lab
(`jupyterlab.commands.get_app_dir()`, which honours JUPYTERLAB_DIR). An existing overrides.json
is merged into, never replaced.

    python binder/no_news.py [PATH]    # default: <get_app_dir()>/settings/overrides.json

`make install` (for `make lab`) and binder/postBuild both run it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PLUGIN = "@jupyterlab/apputils-extension:notification"
NO_NEWS = {"fetchNews": "false", "checkForUpdates": False}


def overrides_path() -> Path:
    """Where this Python's JupyterLab looks for overrides.json."""
    from jupyterlab.commands import get_app_dir

    return Path(get_app_dir()) / "settings" / "overrides.json"


def write(path: Path) -> None:
    """Merge NO_NEWS into the overrides file at `path` (created if missing)."""
    try:
        overrides = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError as error:
        sys.exit(f"{path}: not valid JSON ({error}); fix or remove it, then run this again")
    if not isinstance(overrides, dict) or not isinstance(overrides.get(PLUGIN, {}), dict):
        sys.exit(f"{path}: not a JSON object of settings; fix or remove it, then run this again")
    overrides.setdefault(PLUGIN, {}).update(NO_NEWS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(overrides, indent=2) + "\n", encoding="utf-8")
    print(f"no news: wrote {path}")


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else overrides_path())
