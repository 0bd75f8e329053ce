"""DockerSpawner for the course: every learner's server runs the course image next to a Docker engine
of the learner's own (docker/learner-engine), never the host's socket.

The two containers share one network namespace: the engine's API listens on 127.0.0.1:2375 there,
so only that learner's notebook reaches it, and the grader in the notebook reaches the containers it
starts. Both mount the learner's work and scratch volumes at the same paths, because the engine
resolves bind mounts in its own filesystem. The hub talks to the host's engine (as DockerSpawner
always does); learners never do.
"""

from __future__ import annotations

import asyncio

import docker.errors
from dockerspawner import DockerSpawner
from traitlets import Dict, Unicode

LABEL = "org.dockerlab.classroom"


class EngineSpawner(DockerSpawner):
    engine_image = Unicode("dockerlab/engine:latest", config=True,
                           help="The learner's engine image (docker/learner-engine).")
    engine_runtime = Unicode("", config=True,
                             help="An OCI runtime for the engine, e.g. sysbox-runc: under it the engine "
                                  "needs no extra capability. Empty: runc, with the capabilities of "
                                  "Docker-in-Docker (root on the host for whoever escapes it).")
    engine_limits = Dict({"mem_limit": "8g", "pids_limit": 4096, "nano_cpus": 2_000_000_000}, config=True,
                         help="Host-config limits of each learner's engine (docker-py names).")
    bases = Unicode("", config=True,
                    help="A host folder of `docker save` tars every engine loads at start (no registry).")
    engine_ready_s = 120

    @property
    def engine_name(self) -> str:
        return f"{self.container_name}-engine"

    async def start(self):
        engine = await self._start_engine()
        self.extra_host_config = {**self.extra_host_config, "network_mode": f"container:{engine}"}
        self.extra_create_kwargs = {**self.extra_create_kwargs, "ports": None}  # nothing to expose: no address of its own
        return await super().start()

    async def get_ip_and_port(self):
        """The notebook has no address of its own: it lives at its engine's."""
        info = await self.docker("inspect_container", self.engine_name)
        return info["NetworkSettings"]["Networks"][self.network_name]["IPAddress"], self.port

    async def stop(self, now=False):
        await super().stop(now=now)
        try:
            await self.docker("stop", self.engine_name, timeout=20)
            if self.remove:
                await self.docker("remove_container", self.engine_name)  # the data volume is kept
        except docker.errors.NotFound:
            pass

    async def _start_engine(self) -> str:
        name = self.engine_name
        try:
            info = await self.docker("inspect_container", name)
        except docker.errors.NotFound:
            info = None
        if info is None:
            binds = dict(self.volume_binds)  # the work and scratch volumes, at the notebook's paths
            binds[f"{name}-data"] = {"bind": "/var/lib/docker", "mode": "rw"}
            if self.bases:
                binds[self.bases] = {"bind": "/bases", "mode": "ro"}
            if self.engine_runtime:
                privileges = {"runtime": self.engine_runtime}
            else:
                privileges = {"cap_add": ["ALL"], "cap_drop": ["SYS_RESOURCE"], "cgroupns": "private",
                              "security_opt": ["seccomp=unconfined", "apparmor=unconfined"]}
            host_config = self.client.create_host_config(
                binds=binds, network_mode=self.network_name, **privileges, **self.engine_limits)
            info = await self.docker("create_container", image=self.engine_image, name=name,
                                     host_config=host_config,
                                     labels={LABEL: "engine", f"{LABEL}.user": self.user.name})
            self.log.info("Created the engine %s for %s", name, self.user.name)
        await self.docker("start", name)
        for _ in range(self.engine_ready_s * 2):
            state = (await self.docker("inspect_container", name))["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return name
            if not state["Running"]:
                raise RuntimeError(f"{self.user.name}'s engine stopped (exit {state['ExitCode']}): "
                                   f"see `docker logs {name}`")
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{self.user.name}'s engine was not ready in {self.engine_ready_s} s")
