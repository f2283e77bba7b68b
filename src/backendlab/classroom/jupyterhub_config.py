"""JupyterHub configuration of the one-machine classroom (``make hub``, tests/test_classroom.py).

:class:`backendlab.classroom.Classroom` writes ``classroom.json`` and starts ``jupyterhub -f`` on
this file with ``BACKENDLAB_CLASSROOM`` pointing at it. Everything listens on 127.0.0.1.

What it sets up, the way a course hub on one machine would be set up:

* real local accounts, logged in with their passwords (PAM), no admin users;
* each user's JupyterLab started by the spawner as that user (``LocalProcessSpawner``: the hub runs
  as root and switches to the user's uid), from the course's environment, in the user's home;
* per role, a Jupyter configuration folder (``JUPYTER_CONFIG_PATH``): students get nbgrader's
  assignment list with the exchange, and neither the formgrader nor the Create Assignment tool;
  the instructor gets the formgrader on their course folder;
* nbgitpuller, so that a link puts the course in a student's home.
"""

import json
import os

c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)

with open(os.environ["BACKENDLAB_CLASSROOM"], encoding="utf-8") as handle:
    classroom = json.load(handle)

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = classroom["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = classroom["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{classroom['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [classroom["proxy"]]
c.JupyterHub.db_url = f"sqlite:///{classroom['state']}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{classroom['state']}/jupyterhub_cookie_secret"
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server

# Real accounts and their passwords; nobody is an admin of the hub.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(classroom["roles"])
c.Authenticator.admin_users = set()

# Each user's JupyterLab, as that user, from the course's environment.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(classroom["bin"], "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def per_role(spawner):
    """Give the user's server the Jupyter configuration of their role."""
    role = classroom["roles"][spawner.user.name]
    spawner.environment = {
        "PATH": f"{classroom['bin']}:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_PATH": os.path.join(classroom["config"], role),
        "LANG": "C.UTF-8",
    }


c.Spawner.pre_spawn_hook = per_role

# A service the tests use to check the hub from outside (never an account a student can log into).
if classroom.get("test_service_token"):
    c.JupyterHub.services = [{"name": "classroom-test", "api_token": classroom["test_service_token"]}]
    c.JupyterHub.load_roles = [{
        "name": "classroom-test",
        "scopes": ["list:users", "read:users", "tokens"],
        "services": ["classroom-test"],
    }]
