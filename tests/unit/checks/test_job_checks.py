"""The checks that read the training job (Lab 03): its run, checkpoint, metrics, device, framework and GPUs;
and the GPU policy."""

import pytest

from graders import checks
from graders.checks.base import Outcome
from graders.facts import BuildContext, Gpu, TrainingJob
from tests.unit.checks.helpers import run03
from tests.unit.fakes import facts, image

CHECKPOINT = "/checkpoints/grade-x.pt"


METRICS = "/output/grade-x.metrics.jsonl"


ROWS = '{"epoch": 1, "loss": 1.2, "samples": 256}\n{"epoch": 2, "loss": 1.1, "samples": 256}\n'


def job(**changes) -> TrainingJob:
    values = dict(run_name="grade-x", exit_code=0, timed_out=False, seconds=4.0, shm_mb=256,
                  logs="device: cpu (no GPU visible)\ndone: /checkpoints/grade-x.pt\n",
                  files={CHECKPOINT: 24000, METRICS: 90}, texts={METRICS: ROWS}, checkpoint_load=(0, "2"),
                  torch="2.13.0+cu130 13.0", cuda="13.0", gpus_requested=False, gpu_note="no GPU runtime",
                  checkpoint="grade-x.pt")
    values.update(changes)
    return TrainingJob(**values)


TORCH_WHEELS = {"torch": "2.13.0", "nvidia-cuda-runtime": "13.0.96"}



def test_training_run_names_shared_memory():
    assert run03("training_run", job=job()).fraction == 1
    shm = run03("training_run", job=job(exit_code=1, logs="RuntimeError: unable to allocate shared memory(shm) for file"))
    assert shm.fraction == 0 and "--shm-size" in shm.message and "256 MB" in shm.message
    assert "time limit" in run03("training_run", job=job(exit_code=None, timed_out=True)).message
    oom = run03("training_run", job=job(exit_code=137, limit_hit="it used more than its memory limit of 4096 MB and "
                                                                 "the kernel killed it"))
    assert oom.fraction == 0 and "memory limit of 4096 MB" in oom.message
    denied = run03("training_run", job=job(exit_code=1, logs="Traceback (most recent call last):\n"
                                                        "PermissionError: [Errno 13] Permission denied: '/checkpoints/x.pt'"))
    assert denied.fraction == 0 and "chown them to the user the job runs as" in denied.message


def test_checkpoint_where_and_whether_it_loads():
    params = {"epochs": 2}
    assert run03("checkpoint_saved", params, job=job()).fraction == 1
    inside = run03("checkpoint_saved", params, job=job(files={}, logs="done: /home/trainer/checkpoints/grade-x.pt"))
    assert inside.fraction == 0 and "inside the container" in inside.message
    ignored = run03("checkpoint_saved", params, job=job(files={"/checkpoints/run.pt": 1}, logs="done: /checkpoints/run.pt"))
    assert "did not reach it" in ignored.message
    broken = run03("checkpoint_saved", params, job=job(checkpoint_load=(1, "UnpicklingError: bad")))
    assert broken.fraction == 0 and "does not load back" in broken.message


def test_metrics_from_the_mounted_data():
    params = {"epochs": 2, "samples": 256}
    assert run03("metrics_written", params, job=job()).fraction == 1
    assert run03("metrics_written", params, job=job(texts={METRICS: ROWS.replace("256", "1024")})).fraction == 0.5
    assert run03("metrics_written", params, job=job(files={})).fraction == 0


def test_device_logged():
    assert run03("device_logged", job=job()).fraction == 1
    assert run03("device_logged", job=job(logs="epoch 1 done")).fraction == 0


def pinned(text: str) -> BuildContext:
    return BuildContext(".dockerignore", {}, {"requirements.txt": text})


def test_torch_pinned_and_one_copy_of_cuda():
    from graders.checks.torch_pinned import PIP_PACKAGES

    good = facts("FROM python:3.11-slim\nCMD [\"x\"]\n", job=job(), inside={PIP_PACKAGES: TORCH_WHEELS},
                 context=pinned("torch==2.13.0\n"))
    passed = run03("torch_pinned", _facts=good)
    assert passed.fraction == 1 and "from the nvidia-* wheels only" in passed.message
    # a CUDA base under torch's own CUDA wheels: a second copy, even when the releases match
    for base_cuda in ("12.4.1", "13.0.2"):
        cuda_base = facts("FROM nvidia/cuda:13.0.2-runtime-ubuntu24.04\nCMD [\"x\"]\n", job=job(),
                          image=image(env={"CUDA_VERSION": base_cuda}), inside={PIP_PACKAGES: TORCH_WHEELS},
                          context=pinned("torch==2.13.0\n"))
        outcome = run03("torch_pinned", _facts=cuda_base)
        assert outcome.fraction == pytest.approx(2 / 3) and "never used" in outcome.message
    # a vendor image whose torch is built against the base's CUDA: no nvidia-* runtime wheel, one copy
    vendor = facts("FROM nvcr.io/nvidia/pytorch:25.08-py3\nCMD [\"x\"]\n", job=job(),
                   image=image(env={"CUDA_VERSION": "13.0.0"}), inside={PIP_PACKAGES: {"torch": "2.8.0a0"}},
                   context=pinned("torch==2.13.0\n"))
    assert "uses the base's CUDA" in run03("torch_pinned", _facts=vendor).message
    loose = facts("FROM python:latest\nCMD [\"x\"]\n", job=job(), inside={PIP_PACKAGES: TORCH_WHEELS},
                  context=pinned("torch\n"))
    assert run03("torch_pinned", _facts=loose).fraction == pytest.approx(1 / 3)


def test_a_torch_pin_counts_only_when_the_image_holds_that_version():
    from graders.checks.torch_pinned import PIP_PACKAGES

    # the Dockerfile installs torch unpinned, whatever requirements.txt says: the job reports 2.14.1
    other = facts("FROM python:3.11-slim\nRUN pip install torch\nCMD [\"x\"]\n", job=job(torch="2.14.1+cu130 13.0"),
                  inside={PIP_PACKAGES: TORCH_WHEELS}, context=pinned("torch==2.13.0\n"))
    outcome = run03("torch_pinned", _facts=other)
    assert outcome.fraction == pytest.approx(2 / 3) and "holds torch 2.14.1+cu130, which no pin names" in outcome.message
    same = facts("FROM python:3.11-slim\nCMD [\"x\"]\n", job=job(torch="2.13.0+cu130 13.0"), inside={PIP_PACKAGES: TORCH_WHEELS},
                 context=pinned("torch==2.13.0\n"))
    assert run03("torch_pinned", _facts=same).fraction == 1  # the +cu130 build tag names the same release


def test_requirements_files_are_read_only_as_small_plain_files(tmp_path):
    """The static stage reads them from the copied context; the check reads what it read, never a file."""
    import os

    from graders.submission import requirements

    (tmp_path / "requirements-link.txt").symlink_to("/dev/zero")  # a hostile learner's: a read never ends
    os.mkfifo(tmp_path / "requirements-fifo.txt")  # a read would wait forever
    (tmp_path / "requirements-big.txt").write_text("torch==9.9.9\n" + "#" * 300_000)
    (tmp_path / "requirements.txt").write_text("torch==2.13.0\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("torch==1.0.0\n")  # not at the top: not read
    assert requirements(tmp_path) == {"requirements.txt": "torch==2.13.0\n"}


def test_gpu_choice_left_to_the_run():
    assert run03("gpu_left_to_run", image=image(env={})).fraction == 1
    cuda_base = run03("gpu_left_to_run", image=image(env={"NVIDIA_VISIBLE_DEVICES": "all",
                                                          "NVIDIA_DRIVER_CAPABILITIES": "compute,utility"}))
    assert cuda_base.fraction == 1 and "engine's default" in cuda_base.message
    utility = run03("gpu_left_to_run", image=image(env={"NVIDIA_DRIVER_CAPABILITIES": "utility"}))
    assert utility.fraction == 0.5 and "leaves out `compute`" in utility.message
    pinned = run03("gpu_left_to_run", image=image(env={"CUDA_VISIBLE_DEVICES": "1"}))
    assert pinned.fraction == 0.5 and "numbered from 0" in pinned.message
    both = run03("gpu_left_to_run", image=image(env={"CUDA_VISIBLE_DEVICES": "1", "NVIDIA_DRIVER_CAPABILITIES": "video"}))
    assert both.fraction == 0
    assert run03("gpu_left_to_run", image=image(env={"NVIDIA_DRIVER_CAPABILITIES": "all"})).fraction == 1
    void = run03("gpu_left_to_run", image=image(env={"NVIDIA_VISIBLE_DEVICES": "void"}))  # --gpus still wins
    assert void.fraction == 1 and "only when it asks with --gpus" in void.message


def test_gpu_criteria_without_and_with_a_gpu():
    none = Gpu("none", None, None, [])
    assert run03("gpu_used", job=job(), gpu=none).not_gradable
    assert run03("cuda_compatible", job=job(), gpu=none).not_gradable
    old = Gpu("nvidia", "550.54.15", "12.4", ["NVIDIA H100"])
    assert "580.00 or newer" in run03("cuda_compatible", job=job(), gpu=old).message
    new = Gpu("nvidia", "580.65.06", "13.0", ["NVIDIA H100"])
    assert run03("cuda_compatible", job=job(), gpu=new).fraction == 1
    v100 = Gpu("nvidia", "580.65.06", "13.0", ["Tesla V100-SXM2-16GB"], [("Tesla V100-SXM2-16GB", "7.0")])
    volta = run03("cuda_compatible", job=job(), gpu=v100)
    assert volta.fraction == 0 and "compute capability 7.5 or newer" in volta.message and "Volta" in volta.message
    assert run03("cuda_compatible", job=job(cuda="12.8"), gpu=v100).fraction == 1
    used = run03("gpu_used", job=job(gpus_requested=True, logs="device: cuda (NVIDIA H100)"), gpu=new)
    assert used.fraction == 1
    assert "ran on the CPU" in run03("gpu_used", job=job(gpus_requested=True), gpu=new).message


def test_gpu_policy_zero_turns_not_gradable_into_failed():
    from graders.course import Criterion
    from graders.scoring import Bound, score

    class Fixed(checks.base.Check):
        needs = ()

        def grade(self, params, facts):
            return Outcome.ungradable("no GPU here")

    criterion = Criterion(id="g", title="g", points=5, type="gpu_used", hint="h", gpu=True)
    item = Bound(criterion, Fixed(), checks.base.Params())
    assert score([item], facts(), "skip")[0].status == "not_gradable"
    zero = score([item], facts(), "zero")[0]
    assert zero.status == "failed" and "zero without a GPU" in zero.message



def preempted(**changes):
    from graders.facts import JobStop, Preemption

    rows = "".join(f'{{"epoch": {e}, "loss": 1.0}}\n' for e in changes.pop("epochs", [1, 2, 3, 4]))
    stop = JobStop(**{"seen": True, "exit_code": 143, "seconds_to_exit": 0.4, "killed": False,
                      "logs": "signal SIGTERM: stopping after this batch\n", **changes.pop("stop", {})})
    values = dict(run_name="preempt-x", epochs=4, grace_seconds=5, stop=stop, resume_exit=0,
                  resume_logs="resumed: /checkpoints/preempt-x.pt holds epoch 1\n",
                  texts={"/output/preempt-x.metrics.jsonl": rows})
    values.update(changes)
    return Preemption(**values)


def test_preemption_stops_in_time_and_resumes_where_it_left_off():
    outcome = run03("survives_preemption", preempt=preempted())
    assert outcome.fraction == 1 and "resumed and finished epochs 1 to 4 once each" in outcome.message
    # a shell as process 1: killed at the end of the grace period; it still resumes (half)
    killed = run03("survives_preemption", preempt=preempted(stop={"exit_code": 137, "seconds_to_exit": 5.2,
                                                                   "killed": True}))
    assert killed.fraction == 0.5 and "waited its 5 s grace period and then killed" in killed.message
    # the checkpoint inside the container's layer: the new container starts over
    over = run03("survives_preemption", preempt=preempted(epochs=[1, 1, 2, 3, 4]))
    assert over.fraction == 0.5 and "trained epochs 1 a second time" in over.message
    both = run03("survives_preemption", preempt=preempted(stop={"killed": True, "exit_code": 137}, resume_exit=1))
    assert both.fraction == 0 and "did not finish" in both.message
    never = run03("survives_preemption", preempt=preempted(stop={"seen": False}))
    assert never.fraction == 0 and "never showed a finished epoch" in never.message
