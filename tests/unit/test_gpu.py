"""Reading the GPU runtime from the engine's description and CDI specs."""

from graders.engine import gpu


def test_nvidia_runtime_registered_with_the_engine():
    assert gpu.detect({"runtimes": ["io.containerd.runc.v2", "nvidia", "runc"]}).runtime == "nvidia"


def test_cdi_specs_found(tmp_path):
    (tmp_path / "nvidia.yaml").write_text("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\n")
    assert gpu.detect({"runtimes": ["runc"], "cdi_spec_dirs": [str(tmp_path)]}).runtime == "cdi"


def test_no_runtime(tmp_path):
    found = gpu.detect({"runtimes": ["runc"], "cdi_spec_dirs": [str(tmp_path)]})
    assert found.runtime == "none"
