"""Tests you can run on your machine: pip install pytest ./native && pytest tests/"""

import json

import pytest

from training.make_model import make


def test_the_model_is_deterministic(tmp_path):
    first, second = make(tmp_path / "a", rows=3000), make(tmp_path / "b", rows=3000)
    for name in ("table.f32", "labels.u8", "meta.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert json.loads((first / "meta.json").read_text())["rows"] == 3000


def test_nearest_neighbours_in_c(tmp_path):
    fastknn = pytest.importorskip("fastknn")  # built by `pip install ./native`
    folder = make(tmp_path / "m", rows=30_000)
    table = (folder / "table.f32").read_bytes()
    labels = (folder / "labels.u8").read_bytes()
    neighbours = fastknn.nearest(table, 4, [5.1, 3.5, 1.4, 0.2], 5)
    assert len(neighbours) == 5 and all(labels[i] == 0 for i, _ in neighbours)  # all setosa
    assert [d for _, d in neighbours] == sorted(d for _, d in neighbours)
