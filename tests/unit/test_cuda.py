"""NVIDIA's minimum-driver table and its edges."""

import pytest

from graders.cuda import check, version


@pytest.mark.parametrize(
    "driver, cuda, ok, words",
    [
        ("550.54.15", "12.4", True, "runs CUDA 12.4"),
        ("525.60.13", "12.0", True, "runs CUDA 12.0"),          # exactly the minimum
        ("525.60.12", "12.0", False, "525.60.13 or newer"),      # one below it
        ("525.85.12", "12.4", True, "minor-version compatibility"),
        ("470.82.01", "12.1", False, "needs NVIDIA driver 525.60.13"),
        ("450.80.02", "11.8", True, "minor-version compatibility"),
        ("450.80.01", "11.0", False, "450.80.02 or newer"),
        ("575.57.08", "13.0", False, "580.00 or newer"),
        ("580.65.06", "13.0", True, "runs CUDA 13.0"),
        ("580.65.06", "11.8", True, "runs CUDA 11.8"),           # newer drivers run older CUDA
        (None, "12.4", None, "no NVIDIA driver"),
        ("550.54.15", None, None, "names no CUDA"),
        ("550.54.15", "10.2", None, "not in the table"),
        ("550.54.15", "twelve", None, "not a version"),
    ],
)
def test_driver_against_cuda(driver, cuda, ok, words):
    verdict = check(driver, cuda)
    assert verdict.ok is ok and words in verdict.message


def test_versions_compare_numerically():
    assert version("525.105.17") > version("525.60.13")  # 105 > 60, not '1' < '6'
    with pytest.raises(ValueError):
        version("12.4-rc1")


@pytest.mark.parametrize(
    "cuda, gpu, cap, ok, words",
    [
        ("13.0", "Tesla V100-SXM2-16GB", "7.0", False, "compute capability 7.5 or newer"),  # Volta
        ("13.0", "Tesla P100-PCIE-16GB", "6.0", False, "(Pascal)"),
        ("13.0", "NVIDIA GeForce GTX 1080", "6.1", False, "+cu12x"),
        ("13.0", "Tesla T4", "7.5", True, "runs CUDA 13.0"),                                # Turing: the first kept
        ("12.8", "Tesla V100-SXM2-16GB", "7.0", True, "runs CUDA 12.8"),
        ("12.4", "Tesla K80", "3.7", False, "5.0 or newer"),
        ("13.0", "Some GPU", None, True, "runs CUDA 13.0"),                                 # capability unknown
    ],
)
def test_compute_capability_against_cuda(cuda, gpu, cap, ok, words):
    verdict = check("580.65.06", cuda, [(gpu, cap)])
    assert verdict.ok is ok and words in verdict.message
