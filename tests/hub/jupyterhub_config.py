"""JupyterHub configuration for tests/test_hub.py: a throw-away room on 127.0.0.1.

The test writes its choices (ports, folders, tokens, the learners' stand-in keys) to a
JSON file and points COURSE_HUB_SETTINGS at it. The room's part, the spawner environment,
is what docs/workshop.md tells a host to set: offline mode for every learner, plus one
key per learner handed to that learner's server only.

Not for a real hub: SimpleLocalProcessSpawner runs every learner as the same system user
(see docs/workshop.md for TLJH and Zero to JupyterHub).
"""

import json
import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

settings = json.loads(Path(os.environ["COURSE_HUB_SETTINGS"]).read_text(encoding="utf-8"))
state = Path(settings["state_dir"])

# Everything on 127.0.0.1: the proxy (learners' entry), the hub itself and the proxy's API.
c.JupyterHub.bind_url = f"http://127.0.0.1:{settings['port']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings['hub_port']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [settings["proxy"]]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # a hub that stops takes its learners' servers with it

# Learners exist only because the test creates them through the REST API (nobody logs in
# with a password: the test uses API tokens). allow_all: any user the admin creates may use the hub.
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True

# The test's admin: a service with a fixed token and just the scopes it uses.
c.JupyterHub.services = [{"name": "course-test", "api_token": settings["admin_token"]}]
c.JupyterHub.load_roles = [
    {
        "name": "course-test",
        "services": ["course-test"],
        "scopes": ["admin:users", "admin:servers", "admin:server_state", "tokens", "access:servers", "list:users"],
    }
]

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(Path(settings["homes"]) / "{username}")
c.Spawner.cmd = [settings["singleuser"]]
c.Spawner.default_url = "/lab"
c.Spawner.args = [
    "--LabApp.extension_manager=readonly",  # no PyPI look-ups from the learners' servers
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
    *(["--allow-root"] if os.geteuid() == 0 else []),  # CI containers run as root
]
c.Spawner.start_timeout = 60
c.Spawner.http_timeout = 60

keys = settings["learner_keys"]  # stand-ins for real per-learner keys
c.Spawner.environment = {
    # The room: every learner offline, whatever key their server has.
    "COURSE_OFFLINE": "1",
    # Test only: the same replies as the stored outputs (the lessons were executed this way).
    "COURSE_OFFLINE_SEED": "0",
    "COURSE_OFFLINE_DELAY": "0",
    # Each learner's own key, computed when their server starts: no learner's server has another's.
    "OPENAI_API_KEY": lambda spawner: keys[spawner.user.name],
}
