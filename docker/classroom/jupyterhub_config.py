"""JupyterHub for a classroom: each learner gets the course image (JupyterLab, the grader, the labs)
with a Docker engine of their own, and a work volume that outlives their server. Run it on the
instructor's machine, beside that machine's engine:

    docker network create dockerlab-classroom
    jupyterhub -f docker/classroom/jupyterhub_config.py

Settings come from the environment (defaults in brackets):
  DOCKERLAB_HUB_URL       where the hub is served [http://127.0.0.1:8000]; put TLS in front of it
  DOCKERLAB_HUB_NETWORK   the Docker network the learners' servers join [dockerlab-classroom]
  DOCKERLAB_COURSE_IMAGE  [dockerlab/course:latest]     DOCKERLAB_ENGINE_IMAGE [dockerlab/engine:latest]
  DOCKERLAB_ENGINE_RUNTIME  e.g. sysbox-runc (recommended) [runc, with Docker-in-Docker's capabilities]
  DOCKERLAB_BASES         a host folder of `docker save` tars loaded into every engine (no registry)
Authentication is JupyterHub's default (the machine's accounts, PAM); set c.JupyterHub.authenticator_class
in a config that loads this one (load_subconfig) for OAuth, LTI or the like. See docs/classroom.md.
"""

import os
import sys

import docker

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

c = get_config()  # noqa: F821 (given by JupyterHub)
network = os.environ.get("DOCKERLAB_HUB_NETWORK", "dockerlab-classroom")

c.JupyterHub.bind_url = os.environ.get("DOCKERLAB_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.spawner_class = "dockerlab_spawner.EngineSpawner"
# The learners' servers reach the hub's API on their network's gateway (this machine).
gateway = docker.from_env().networks.get(network).attrs["IPAM"]["Config"][0]["Gateway"]
c.JupyterHub.hub_bind_url = f"http://{gateway}:8081"
c.JupyterHub.hub_connect_ip = gateway
os.environ.setdefault("NODE_PATH", "/usr/share/nodejs")  # Debian's configurable-http-proxy under another Node.js

spawner = c.EngineSpawner
spawner.image = os.environ.get("DOCKERLAB_COURSE_IMAGE", "dockerlab/course:latest")
spawner.engine_image = os.environ.get("DOCKERLAB_ENGINE_IMAGE", "dockerlab/engine:latest")
spawner.engine_runtime = os.environ.get("DOCKERLAB_ENGINE_RUNTIME", "")
spawner.bases = os.environ.get("DOCKERLAB_BASES", "")
spawner.network_name = network
spawner.pull_policy = "ifnotpresent"
spawner.remove = True  # servers are cattle; the work volume is what is kept
spawner.notebook_dir = "/home/learner/work"
spawner.default_url = "/lab"
spawner.cmd = ["--ServerApp.open_browser=False"]  # start-lab runs jupyterhub-singleuser with it
spawner.volumes = {
    "dockerlab-work-{username}": "/home/learner/work",
    "dockerlab-scratch-{username}": "/home/learner/.dockerlab",
}
spawner.mem_limit = "4G"
spawner.extra_host_config = {
    # start-lab needs these three to hand the work folder to the learner, then drops every capability
    "cap_drop": ["ALL"], "cap_add": ["CHOWN", "SETUID", "SETGID"],
    "security_opt": ["no-new-privileges:true"], "pids_limit": 1024,
}
spawner.extra_create_kwargs = {"labels": {"org.dockerlab.classroom": "lab"}}
spawner.start_timeout = 180
c.JupyterHub.cleanup_servers = True
