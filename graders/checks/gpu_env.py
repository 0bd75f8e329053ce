"""The image leaves the choice of GPUs to `docker run --gpus` and keeps the driver parts CUDA needs.

With `--gpus`, the engine itself sets NVIDIA_VISIBLE_DEVICES for the container (after the image's
own value, so it wins). It does not set NVIDIA_DRIVER_CAPABILITIES unless the request names them,
so an image value without `compute` leaves CUDA out. CUDA_VISIBLE_DEVICES baked into the image
renumbers or hides the GPUs the run asked for. NVIDIA_VISIBLE_DEVICES in the image only matters
where the NVIDIA runtime is the engine's default: there `all` hands GPUs to containers that never
asked (reported, not rewarded), and `void` or `none` gives a GPU only to a run that asks with
`--gpus` (the safe choice there; NVIDIA's own guidance for such machines)."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

SAFE = {"void", "none"}


class GpuLeftToRun(Check):
    needs = ("image",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        env = gathered(facts.image).env
        names = ("NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "CUDA_VISIBLE_DEVICES")
        evidence = {name: env[name] for name in names if name in env}
        problems = []
        capabilities = env.get("NVIDIA_DRIVER_CAPABILITIES")
        if capabilities is not None:
            parts = {part.strip() for part in capabilities.split(",")}
            if not parts & {"compute", "all"}:
                problems.append(f"NVIDIA_DRIVER_CAPABILITIES={capabilities} leaves out `compute`, so the runtime "
                                "mounts no CUDA driver library and torch sees no GPU")
        if "CUDA_VISIBLE_DEVICES" in env:
            problems.append(f"CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']} is baked into the image: inside a "
                            "container the GPUs `--gpus` gave are numbered from 0, so a fixed list hides or "
                            "renumbers them; leave the choice to `docker run --gpus`")
        if problems:
            return Outcome.partial(1 - len(problems) / 2, "; ".join(problems), **evidence)
        note = ""
        visible = env.get("NVIDIA_VISIBLE_DEVICES")
        if visible is not None and visible.strip().lower() in SAFE:
            note = (f"; NVIDIA_VISIBLE_DEVICES={visible} in the image: a run gets GPUs only when it asks with "
                    "--gpus, even where the NVIDIA runtime is the engine's default")
        elif visible is not None:
            note = (f"; note: NVIDIA_VISIBLE_DEVICES={env['NVIDIA_VISIBLE_DEVICES']} in the image gives GPUs to "
                    "every container of it where the NVIDIA runtime is the engine's default, asked or not")
        return Outcome.passed("GPU choice left to `docker run --gpus`; CUDA's driver parts not held back" + note,
                              **evidence)
