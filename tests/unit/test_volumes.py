"""What a job left in its volumes, read back through the engine's archive: sizes, small texts, and a
cap on what is read, whatever the job wrote."""

import io
import tarfile
from types import SimpleNamespace

from graders.engine import volumes


def archive(folder: str, files: dict[str, bytes]) -> bytes:
    """The tar stream `GET /containers/{id}/archive?path=/folder` returns: the folder's name first."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        tar.addfile(_folder(folder))
        for name, content in files.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return data.getvalue()


def _folder(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


def session(archives: dict[str, bytes], chunk: int = 1000) -> SimpleNamespace:
    def get_archive(path):
        data = archives[path]
        return (data[i:i + chunk] for i in range(0, len(data), chunk)), {}

    container = SimpleNamespace(get_archive=get_archive)
    return SimpleNamespace(name=lambda n: n, client=SimpleNamespace(containers=SimpleNamespace(get=lambda n: container)))


def test_sizes_and_small_texts_of_every_folder():
    fake = session({"/output": archive("output", {"run.metrics.jsonl": b'{"epoch": 1}\n', "run/deep.txt": b"x"}),
                    "/checkpoints": archive("checkpoints", {"run.pt": b"\0" * 5000})})
    files, texts = volumes.written(fake, "train", ["/output", "/checkpoints"], {".jsonl", ".txt"})
    assert files == {"/output/run.metrics.jsonl": 13, "/output/run/deep.txt": 1, "/checkpoints/run.pt": 5000}
    assert texts == {"/output/run.metrics.jsonl": '{"epoch": 1}\n', "/output/run/deep.txt": "x"}


def test_a_job_that_writes_more_than_the_grader_reads_is_listed_up_to_the_cap(monkeypatch):
    monkeypatch.setattr(volumes, "READ_LIMIT", 20_000)
    big = {f"part-{i}.bin": b"\0" * 8000 for i in range(10)}
    fake = session({"/output": archive("output", {"first.txt": b"kept", **big}),
                    "/checkpoints": archive("checkpoints", {"never-read.pt": b"x"})})
    files, texts = volumes.written(fake, "train", ["/output", "/checkpoints"], {".txt"})
    assert texts == {"/output/first.txt": "kept"} and 1 <= len(files) < 11
    assert "/checkpoints/never-read.pt" not in files  # the budget is spent across folders
