"""The training job finishes, in time, with exit code 0; a shared-memory failure, and outputs its user
cannot write, are named as such."""

from graders.checks.base import Check, Outcome, Params
from graders.facts import Facts, gathered

SHM_SIGNS = ("shared memory", "bus error", "/dev/shm", "torch_shm", "shm)")


class TrainingRun(Check):
    needs = ("job",)

    def grade(self, params: Params, facts: Facts) -> Outcome:
        job = gathered(facts.job)
        tail = job.logs.strip().splitlines()[-8:]
        evidence = {"exit_code": job.exit_code, "seconds": round(job.seconds, 1), "log_tail": tail}
        if job.timed_out:
            return Outcome.failed(f"training did not finish within the training job's time limit ({job.seconds:.0f} s, "
                                  "course.yml job.timeout_seconds)", **evidence)
        if job.limit_hit:
            return Outcome.failed(f"training was stopped: {job.limit_hit}", **evidence)
        if job.exit_code == 0:
            return Outcome.passed(f"training finished in {job.seconds:.1f} s", **evidence)
        if any(sign in job.logs.lower() for sign in SHM_SIGNS):
            return Outcome.failed(
                f"DataLoader workers ran out of shared memory (/dev/shm had {job.shm_mb} MB): give the container "
                "more with --shm-size (or shm_size in Compose), or use fewer workers or smaller batches", **evidence)
        denied = next((line for line in reversed(tail) if "Permission denied" in line), "")
        if denied:
            return Outcome.failed(
                f"the job could not write its outputs ({denied.strip()[-160:]}): the grader mounts a new volume on each "
                "output folder, as `docker run -v NAME:/checkpoints` does, and the engine gives it the image's folder's "
                "owner; create the folders in the image and chown them to the user the job runs as", **evidence)
        last = tail[-1] if tail else "(no output)"
        return Outcome.failed(f"training exited with code {job.exit_code}: {last}", **evidence)
