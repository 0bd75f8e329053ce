"""Reading the GPU runtime from the engine's description and CDI specs."""

from pathlib import Path

import pytest

from graders.engine import gpu


def test_nvidia_runtime_registered_with_the_engine():
    assert gpu.detect({"runtimes": ["io.containerd.runc.v2", "nvidia", "runc"]}).runtime == "nvidia"


def test_cdi_specs_found(tmp_path):
    (tmp_path / "nvidia.yaml").write_text("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n")
    assert gpu.detect({"runtimes": ["runc"], "cdi_spec_dirs": [str(tmp_path)]}).runtime == "cdi"


def test_no_runtime(tmp_path):
    found = gpu.detect({"runtimes": ["runc"], "cdi_spec_dirs": [str(tmp_path)]})
    assert found.runtime == "none"


FILES = Path(__file__).parent / "files" / "nvidia-smi"


@pytest.mark.parametrize("name, driver, cuda", [
    ("h100-550.txt", "550.54.15", "12.4"),
    ("a100-525.txt", "525.85.12", "12.0"),
    ("no-driver.txt", None, None),
    ("real-nvidia-h200.txt", "580.159.04", "13.0"),  # verify_gpu.py on an H200, 2026-12-04
])
def test_banner(name, driver, cuda):
    assert gpu.parse_banner((FILES / name).read_text()) == (driver, cuda)


@pytest.mark.parametrize("name", [p.name for p in sorted(FILES.glob("real-*.txt"))] or ["(none yet)"])
def test_banners_of_real_machines(name):
    if name == "(none yet)":
        pytest.skip("no real nvidia-smi output kept yet: run tests/gpu/verify_gpu.py on a GPU machine")
    driver, supported = gpu.parse_banner((FILES / name).read_text())
    assert driver and supported


def test_query_rows():
    rows = gpu.parse_query((FILES / "a100-525-query.csv").read_text())
    assert [r["uuid"][:8] for r in rows] == ["GPU-3a2c", "GPU-7f1e"] and rows[0]["driver"] == "525.85.12"
    assert gpu.parse_query((FILES / "no-driver.txt").read_text()) == []
    assert "compute_cap" not in rows[0]  # an old driver's three columns


KNOWN_CAPS = {"v100-580-query.csv": "7.0", "h100-580-query.csv": "9.0", "real-nvidia-h200-query.csv": "9.0"}


@pytest.mark.parametrize("name, cap", list(KNOWN_CAPS.items())
                         + [(p.name, None) for p in FILES.glob("real-*-query.csv") if p.name not in KNOWN_CAPS])
def test_query_rows_with_compute_capability(name, cap):
    rows = gpu.parse_query((FILES / name).read_text())
    assert rows and all(row["compute_cap"] for row in rows)
    if cap:
        assert rows[0]["compute_cap"] == cap


@pytest.mark.parametrize("spec, count, ids", [
    ("all", -1, []), ('"all"', -1, []), ("2", 2, []),
    ('"device=0,1"', 0, ["0", "1"]), ("device=GPU-3a2c6e41", 0, ["GPU-3a2c6e41"]),
])
def test_device_requests_match_docker_run_gpus(spec, count, ids):
    request = gpu.device_request(spec)
    assert request["Count"] == count and request["DeviceIDs"] == ids and request["Capabilities"] == [["gpu"]]


def test_bad_gpus_value():
    with pytest.raises(ValueError, match="not a --gpus value"):
        gpu.device_request("device=")


def test_the_real_h200_machine_is_judged_able_to_run_its_cuda():
    """The machine verify_gpu.py ran on: driver 580.159.04, torch built for CUDA 13.0, an H200 (9.0)."""
    from graders import cuda

    driver, _ = gpu.parse_banner((FILES / "real-nvidia-h200.txt").read_text())
    rows = gpu.parse_query((FILES / "real-nvidia-h200-query.csv").read_text())
    verdict = cuda.check(driver, "13.0", [(r["name"], r["compute_cap"]) for r in rows])
    assert verdict.ok is True and "runs CUDA 13.0" in verdict.message
