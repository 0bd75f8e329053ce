"""Lab 03 on the real engine. Without a GPU: the GPU criteria are not_gradable and everything
else is graded on a CPU training run. With one (marker `gpu`): the full path on the GPU."""

from __future__ import annotations

import pytest

from graders import pipeline
from graders.course import Job
from graders.engine import gpu as gpu_engine
from tests.conftest import ROOT, edit, learner_folder, lost, tag_aliases

pytestmark = [pytest.mark.docker, pytest.mark.slow]

LAB = ROOT / "labs" / "03-gpu-training"
SOLUTION = ROOT / "solutions" / "03-gpu-training"
GPU_CRITERIA = {"cuda-compat", "gpu-used"}
ENTRYPOINT = 'ENTRYPOINT ["python", "-m", "src.train"]'

# name: (Dockerfile edits, criteria that must be lost)
VARIANTS = {
    # a shell as process 1: arguments dropped, and `docker stop` has to kill it
    "shell-form-entrypoint": ([(ENTRYPOINT, "ENTRYPOINT python -m src.train")],
                              {"entrypoint", "checkpoint", "metrics", "preemption"}),
    # and a new container finds no checkpoint to resume from
    "checkpoints-inside": ([("USER trainer\n", "USER trainer\nENV CHECKPOINT_DIR=/home/trainer/checkpoints\n")],
                           {"checkpoint", "preemption"}),
    "root-user": ([("USER trainer\n", "")], {"non-root"}),
    # the folders made but left to root: a new volume takes their owner, so the job cannot write there
    "outputs-owned-by-root": ([(" && chown trainer:trainer /output /checkpoints", "")],
                              {"training", "checkpoint", "metrics"}),
    # Three settings judged from the image alone, in one grading (each run trains twice): no VOLUME;
    # what a CUDA base brings, seen from the image (CUDA_VERSION, set after the pip layer so the torch
    # install stays cached); GPUs chosen in the image, with `compute` left out.
    "image-settings": ([('VOLUME ["/data", "/output", "/checkpoints"]\n', ""),
                        ("USER trainer\n", "USER trainer\nENV CUDA_VERSION=13.0.2 CUDA_VISIBLE_DEVICES=1 "
                                            "NVIDIA_DRIVER_CAPABILITIES=utility\n")], {"volumes", "pinned", "gpu-env"}),
    # a folder the context does not have: the build fails at that line, and only the Dockerfile is judged
    "copies-a-missing-folder": ([("COPY src/ ./src/\n", "COPY src/ ./src/\nCOPY configs/ ./configs/\n")],
                                {"builds", "pinned", "gpu-env", "volumes", "non-root", "training", "checkpoint",
                                 "metrics", "device", "cuda-compat", "gpu-used"}),
    # the program's output sent to a file: `docker logs` is empty, and nothing tells when to stop it
    "output-to-a-file": ([(ENTRYPOINT, 'COPY --chmod=755 train.sh /train.sh\nENTRYPOINT ["/train.sh"]')],
                         {"device", "preemption"}),
    # valid: an entrypoint script that ends in exec, VOLUME in its plain form, a numeric user, the
    # checkpoint folder named explicitly, every driver part (compute among them), GPUs only for runs
    # that ask (`void`, where the NVIDIA runtime is the default), the base's Debian named
    "script-with-exec": ([(ENTRYPOINT, 'COPY --chmod=755 train.sh /train.sh\nENTRYPOINT ["/train.sh"]'),
                          ('VOLUME ["/data", "/output", "/checkpoints"]', "VOLUME /data /output /checkpoints"),
                          ("USER trainer\n", "ENV CHECKPOINT_DIR=/checkpoints NVIDIA_DRIVER_CAPABILITIES=all "
                                              "NVIDIA_VISIBLE_DEVICES=void\nUSER 10001\n"),
                          ("FROM python:3.11-slim\n", "FROM python:3.11-slim-bookworm\n")],
                         set()),
    # valid: an init (tini) as process 1 forwarding the stop, one VOLUME per line, user and group named,
    # `python -u` with the arguments split between ENTRYPOINT and CMD, driver parts listed, the base
    # pinned to its patch release (both tags are the stand-in's, so the torch layer stays cached)
    "tini-as-init": ([('RUN mkdir -p', "RUN apt-get update && apt-get install -y --no-install-recommends tini \\\n"
                                       " && rm -rf /var/lib/apt/lists/*\nRUN mkdir -p"),
                      ('VOLUME ["/data", "/output", "/checkpoints"]', 'VOLUME ["/data"]\nVOLUME /output\nVOLUME ["/checkpoints"]'),
                      ("USER trainer\n", "ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility\nUSER trainer:trainer\n"),
                      (ENTRYPOINT, 'ENTRYPOINT ["/usr/bin/tini", "--", "python", "-u", "-m", "src.train"]'),
                      ("FROM python:3.11-slim\n", "FROM python:3.11.2-slim-bookworm\n")], set()),
}
SCRIPTS = {  # the variants' train.sh
    "output-to-a-file": '#!/bin/sh\nexec python -m src.train "$@" > /output/train.log 2>&1\n',
    "script-with-exec": '#!/bin/sh\nset -e\nmkdir -p /output /checkpoints\nexec python -m src.train "$@"\n',
}
MESSAGES = {
    "output-to-a-file": "look for a 'device: ...' line",
    "image-settings": "never used",
    "checkpoints-inside": "a second time",
    "outputs-owned-by-root": "chown them to the user the job runs as",
}


@pytest.fixture(scope="module")
def lab03(course):
    return course.lab("03-gpu-training")


@pytest.fixture(scope="module")
def has_gpu(engine):
    from graders.engine import client

    return gpu_engine.detect(client.info(engine)).runtime != "none"


@pytest.fixture
def bookworm_tags(engine):
    """The stand-in (CPython 3.11.2 on Debian 12) under the tags that say so."""
    with tag_aliases(engine, "python:3.11-slim", ["python:3.11-slim-bookworm", "python:3.11.2-slim-bookworm"]):
        yield


@pytest.fixture
def submission03(tmp_path):
    return learner_folder(tmp_path, "03-gpu-training")


@pytest.mark.cpu_only
def test_solution_without_a_gpu(engine, reference, has_gpu):
    if has_gpu:
        pytest.skip("this machine has a GPU runtime: test_solution_on_a_gpu covers it")
    result = reference("03-gpu-training")
    statuses = {c.id: c.status for c in result.criteria}
    assert {k for k, v in statuses.items() if v == "not_gradable"} == GPU_CRITERIA
    assert {k for k, v in statuses.items() if v != "not_gradable"} == {k for k, v in statuses.items() if v == "passed"}
    assert result.score == result.max_score == 90 and result.passed
    preemption = next(c for c in result.criteria if c.id == "preemption")
    assert "resumed and finished epochs 1 to 4 once each" in preemption.message, preemption.message
    assert preemption.evidence["seconds_to_exit"] < 5 and preemption.evidence["stop_exit_code"] == 143
    reasons = [c.message for c in result.criteria if c.id in GPU_CRITERIA]
    assert all("no NVIDIA driver" in r or "no GPU runtime" in r for r in reasons)


@pytest.mark.gpu
def test_solution_on_a_gpu(engine, lab03, has_gpu):
    if not has_gpu:
        pytest.skip("no GPU runtime (NVIDIA runtime or CDI) in this engine; see `dockerlab doctor`")
    result = pipeline.grade(lab03, SOLUTION)
    used = next(c for c in result.criteria if c.id == "gpu-used")
    assert used.status == "passed", used.message
    assert next(c for c in result.criteria if c.id == "cuda-compat").status in ("passed", "failed")


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_flawed_variant_loses_exactly_its_criteria(name, engine, lab03, submission03, bookworm_tags):
    edits, expected = VARIANTS[name]
    for old, new in edits:
        edit(submission03 / "Dockerfile", old, new)
    if name in SCRIPTS:
        (submission03 / "train.sh").write_text(SCRIPTS[name])
    result = pipeline.grade(lab03, submission03)
    assert lost(result) == expected, {c.id: c.message for c in result.criteria if c.status != "passed"}
    assert {c.id for c in result.criteria if c.status == "not_gradable"} <= GPU_CRITERIA
    if name in MESSAGES:
        assert any(MESSAGES[name] in c.message for c in result.criteria if c.id in expected)
    if name == "checkpoints-inside":
        checkpoint = next(c for c in result.criteria if c.id == "checkpoint")
        assert "inside the container (/home/trainer/checkpoints/" in checkpoint.message
    if name == "image-settings":
        gpu_env = next(c for c in result.criteria if c.id == "gpu-env")
        assert "leaves out `compute`" in gpu_env.message, gpu_env.message
    if name == "output-to-a-file":
        preemption = next(c for c in result.criteria if c.id == "preemption")
        assert "keep the program's output on stdout" in preemption.message, preemption.message
    if name == "shell-form-entrypoint":
        checkpoint = next(c for c in result.criteria if c.id == "checkpoint")
        assert "did not reach it" in checkpoint.message


def test_too_little_shared_memory_fails_clearly(engine, lab03):
    tiny = lab03.model_copy(update={"job": lab03.job.model_copy(update={"shm_mb": 1})})
    assert isinstance(tiny.job, Job) and tiny.job.shm_mb == 1
    result = pipeline.grade(tiny, SOLUTION)
    training = next(c for c in result.criteria if c.id == "training")
    assert training.status == "failed" and "shared memory" in training.message and "--shm-size" in training.message
    assert result.timings["train"] < 120  # a clear failure, not a hang
    assert lost(result) == {"training", "checkpoint", "metrics"}


@pytest.mark.cpu_only
def test_require_policy_refuses_to_grade_without_a_gpu(engine, lab03, has_gpu):
    if has_gpu:
        pytest.skip("this machine has a GPU runtime")
    from graders.errors import UsageError

    with pytest.raises(UsageError, match="must be graded on a machine with a GPU runtime"):
        pipeline.grade(lab03.model_copy(update={"gpu": "require"}), SOLUTION)


