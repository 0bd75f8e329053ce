"""GPU criteria: the CUDA/driver contract (judged before running) and a training run that used the GPU.
On a machine without a GPU runtime both are not_gradable, with the reason; the lab's `gpu` policy
in course.yml may turn that into a zero."""

from graders.checks.base import Check, Outcome, Params
from graders.cuda import check as cuda_check
from graders.facts import Facts, gathered


class GpuUsedParams(Params):
    gpu_line: str
    """What the training log says when it trained on the GPU (Lab 03: `device: cuda`)."""


class CudaCompatible(Check):
    needs = ("job",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        gpu = facts.gpu
        if gpu is None or not gpu.driver_version:
            return Outcome.ungradable("no NVIDIA driver on this machine, so the CUDA/driver contract cannot be checked")
        verdict = cuda_check(gpu.driver_version, gathered(facts.job).cuda, gpu.capabilities)
        evidence = {"driver": gpu.driver_version, "image_cuda": gathered(facts.job).cuda,
                    "gpus": [f"{name} (compute capability {cap or '?'})" for name, cap in gpu.capabilities]}
        if verdict.ok is None:
            return Outcome.ungradable(verdict.message, **evidence)
        return (Outcome.passed if verdict.ok else Outcome.failed)(verdict.message, **evidence)


class GpuUsed(Check):
    Params = GpuUsedParams
    needs = ("job",)

    def grade(self, params: GpuUsedParams, facts: Facts) -> Outcome:
        job = gathered(facts.job)
        gpu = facts.gpu
        if gpu is None or gpu.runtime == "none":
            return Outcome.ungradable(f"not gradable here: {job.gpu_note}")
        if not job.gpus_requested:
            return Outcome.failed(f"no GPU was requested: {job.gpu_note}")
        if params.gpu_line in job.logs:
            return Outcome.passed(f"trained on the GPU ({', '.join(gpu.devices) or 'CUDA'}) in {job.seconds:.1f} s")
        return Outcome.failed("a GPU was requested, but training ran on the CPU: torch saw no CUDA device "
                              "(a CPU-only torch build, or NVIDIA_DRIVER_CAPABILITIES without compute?)")
