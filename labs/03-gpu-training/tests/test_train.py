"""Tests you can run on your machine: pip install pytest -r requirements.txt && pytest tests/"""

import json

import pytest

from src.data import CLASSES, write


def test_data_is_deterministic(tmp_path):
    first, second = write(tmp_path / "a", count=8), write(tmp_path / "b", count=8)
    assert (first / "images.f32").read_bytes() == (second / "images.f32").read_bytes()
    assert json.loads((first / "meta.json").read_text())["classes"] == CLASSES


def test_one_epoch_writes_a_checkpoint_and_metrics(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from src import train

    data = write(tmp_path / "data", count=32)
    monkeypatch.setattr("sys.argv", ["train", "--epochs", "1", "--workers", "0", "--run-name", "t",
                                     "--data", str(data), "--output", str(tmp_path / "out"),
                                     "--checkpoints", str(tmp_path / "ck")])
    train.main()
    assert (tmp_path / "ck" / "t.pt").is_file()
    assert json.loads((tmp_path / "out" / "t.metrics.jsonl").read_text())["samples"] == 32


def test_a_second_start_resumes_after_the_saved_epoch(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from src import train

    data = write(tmp_path / "data", count=32)
    common = ["--workers", "0", "--run-name", "r", "--data", str(data), "--output", str(tmp_path / "out"),
              "--checkpoints", str(tmp_path / "ck")]
    monkeypatch.setattr("sys.argv", ["train", "--epochs", "1", *common])
    train.main()
    monkeypatch.setattr("sys.argv", ["train", "--epochs", "2", *common])
    train.main()
    assert "resumed:" in capsys.readouterr().out
    rows = (tmp_path / "out" / "r.metrics.jsonl").read_text().splitlines()
    assert [json.loads(row)["epoch"] for row in rows] == [1, 2]
