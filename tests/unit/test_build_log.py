"""Reading build logs: steps, what came from the cache, the error, and infrastructure failures."""

from graders.engine.build import _buildkit_error, _buildkit_steps, _cause, _legacy_steps, infra_reason
from graders.engine.build_sandbox import BuildLimits
from graders.engine.inspect import clean_instruction
from graders.facts import Build, Step

BUILDKIT = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#4 [1/5] FROM docker.io/library/python:3.11-slim
#4 DONE 0.0s
#5 [2/5] WORKDIR /app
#5 CACHED
#8 [3/5] COPY requirements.txt .
#8 CACHED
#9 [4/5] RUN pip install --no-cache-dir -r requirements.txt
#9 CACHED
#10 [5/5] COPY app/ ./app/
#10 DONE 0.0s
#11 [builder 2/3] RUN make
#11 0.2 make: *** No targets.  Stop.
#11 ERROR: executor failed running [/bin/sh -c make]: exit code: 2
------
 > [builder 2/3] RUN make:
#11 0.2 make: *** No targets.  Stop.
------
error: failed to solve: rpc error: code = Unknown desc = executor failed running [/bin/sh -c make]: exit code: 2
"""

LEGACY = """\
Step 1/4 : FROM python:3.11-slim
 ---> 1234
Step 2/4 : COPY requirements.txt .
 ---> Using cache
 ---> 5678
Step 3/4 : RUN pip install -r requirements.txt
 ---> Running in abc
Step 4/4 : COPY app/ ./app/
"""


def test_buildkit_steps_and_cache_marks():
    steps = _buildkit_steps(BUILDKIT.splitlines())
    assert [(s.instruction, s.cached, s.failed) for s in steps] == [
        ("WORKDIR /app", True, False),
        ("RUN make", False, True),  # step 2 of another stage: same index, kept in log order
        ("COPY requirements.txt .", True, False),
        ("RUN pip install --no-cache-dir -r requirements.txt", True, False),
        ("COPY app/ ./app/", False, False),
    ]


def test_buildkit_error_is_the_summary_without_prefixes():
    assert _buildkit_error(BUILDKIT.splitlines()) == "executor failed running [/bin/sh -c make]: exit code: 2"


def test_legacy_steps():
    steps = _legacy_steps(LEGACY.splitlines(), failed=True)
    assert [(s.instruction, s.cached, s.failed) for s in steps] == [
        ("COPY requirements.txt .", True, False),
        ("RUN pip install -r requirements.txt", False, False),
        ("COPY app/ ./app/", False, True),
    ]


def test_infra_reason_spots_network_trouble_only():
    assert "name resolution" in infra_reason("#9 3.1 WARNING: Temporary failure in name resolution")
    assert infra_reason("ERROR: No matching distribution found for nosuchpkg") is None


def test_history_instructions_are_cleaned():
    assert clean_instruction('/bin/sh -c #(nop)  CMD ["python3"]') == 'CMD ["python3"]'
    assert clean_instruction("RUN /bin/sh -c pip install x # buildkit") == "RUN pip install x"
    assert clean_instruction("COPY app/ ./app/ # buildkit") == "COPY app/ ./app/"


OOM_ENGINE_28 = """\
#5 [2/2] RUN dd if=/dev/zero of=/dev/null bs=600M count=1
#5 ERROR: process "/bin/sh -c dd if=/dev/zero of=/dev/null bs=600M count=1" did not complete successfully: cannot allocate memory
ERROR: failed to build: failed to solve: ResourceExhausted: process "/bin/sh -c dd if=/dev/zero of=/dev/null bs=600M count=1" \
did not complete successfully: cannot allocate memory
"""


def _failed(log: str) -> Build:
    return Build(False, None, "buildkit", 1.0, log, [Step(2, "RUN dd if=/dev/zero of=/dev/null bs=600M count=1", False, True)],
                 error=_buildkit_error(log.splitlines()))


def test_a_step_killed_at_the_memory_limit_is_named_so_whatever_the_engine_s_wording():
    limits = BuildLimits(memory_mb=256)
    # Engine 28's BuildKit (seen in tests/vm on cgroup v2) says it itself: no exit code 137
    assert "memory limit of 256 MB" in _cause(_failed(OOM_ENGINE_28), limits, hit_memory=False)
    old = ("#5 ERROR: executor failed running [/bin/sh -c dd]: exit code: 137\n"
           "error: failed to solve: rpc error: code = Unknown desc = executor failed running [/bin/sh -c dd]: exit code: 137\n")
    assert "memory limit of 256 MB" in _cause(_failed(old), limits, hit_memory=True)
    assert _cause(_failed(old), limits, hit_memory=False).endswith("was killed (exit code 137)")
    assert "memory" not in _cause(_failed(old.replace("137", "1")), limits, hit_memory=False)
