"""A JupyterHub for a workshop room on one machine: the configuration the kit's hub test runs.

    LABKIT_HUB_PASSWORD='a shared password' jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Everything binds 127.0.0.1 (put a TLS reverse proxy in front to serve a room, see README.md).
Learners log in with any user name and the one shared password (JupyterHub's built-in
shared-password authenticator); each gets a single-user server started as a local process by
SimpleLocalProcessSpawner, with a home folder of its own under LABKIT_HUB_HOMES, running the
Python this hub runs (the kit's venv: JupyterLab, labkit, jupyterhub and nbgitpuller). The
spawner gives no isolation between users: every server runs as the hub's own system user.

Settings come from environment variables, so that tests/test_jupyterhub.py and an instructor
start the same file:

    LABKIT_HUB_PASSWORD        the shared password (8 characters or more; required)
    LABKIT_HUB_PORT            the port learners open (default 8000)
    LABKIT_HUB_API_PORT        the hub's own port, behind the proxy (default 8081)
    LABKIT_HUB_PROXY_API_PORT  the proxy's REST API (default 8001)
    LABKIT_HUB_STATE           the hub's database, cookie secret and logs (default
                               .cache/jupyterhub in the checkout)
    LABKIT_HUB_HOMES           the users' home folders (default LABKIT_HUB_STATE/homes)
    LABKIT_PROGRESS_DIR        where check() records each learner's verdicts (default
                               LABKIT_HUB_STATE/progress); handed to every single-user server
    LABKIT_HUB_PYTHON          the Python that runs single-user servers (default: this one)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (JupyterHub's config loader)


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        sys.exit(f"jupyterhub_config.py: {name}={value!r} is not a port number")
    return int(value)


password = os.environ.get("LABKIT_HUB_PASSWORD", "")
if len(password) < 8:
    sys.exit("jupyterhub_config.py: set LABKIT_HUB_PASSWORD to a shared password of 8+ characters")
state = Path(os.environ.get("LABKIT_HUB_STATE", CHECKOUT / ".cache" / "jupyterhub")).resolve()
homes = Path(os.environ.get("LABKIT_HUB_HOMES", state / "homes")).resolve()
progress = Path(os.environ.get("LABKIT_PROGRESS_DIR", state / "progress")).resolve()
python = os.environ.get("LABKIT_HUB_PYTHON", sys.executable)
for folder in (state, homes, progress):
    folder.mkdir(parents=True, exist_ok=True)

# Loopback only: the public port (the proxy), the hub behind it, and the proxy's API.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = _port("LABKIT_HUB_PORT", 8000)
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = _port("LABKIT_HUB_API_PORT", 8081)
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_port('LABKIT_HUB_PROXY_API_PORT', 8001)}"
# configurable-http-proxy as pinned by package-lock.json (`make hub-deps` runs `npm ci`).
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server

# One shared password for the room; any user name works.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = password
c.Authenticator.allow_all = True

# Single-user servers: local processes, one home folder each, the kit's own environment.
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
c.Spawner.cmd = [python, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    # No "get notified about official Jupyter news?" pop-up and no update check (both would
    # reach beyond the machine): JupyterLab reads overrides.json from this folder.
    f"--LabApp.app_settings_dir={HERE / 'lab-settings'}",
    # A kernel idle for an hour is shut down: learners who open every notebook keep the memory
    # of the ones they use (about 125 MB per kernel, bench/hub.py).
    "--MappingKernelManager.cull_idle_timeout=3600",
    "--MappingKernelManager.cull_interval=300",
]
if os.geteuid() == 0:  # containers and cloud VMs often run everything as root
    c.Spawner.args.append("--allow-root")
c.Spawner.environment = {"LABKIT_PROGRESS_DIR": str(progress)}
# A room of learners clicking at once on a small machine: start-up takes longer than alone
# (10 servers at once on 2 cores: about 45 s each, measured by bench/hub.py).
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.JupyterHub.concurrent_spawn_limit = 200
