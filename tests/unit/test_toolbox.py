"""The grader's own tools for shell-less images: a static busybox and its applets, or a clear
"not gradable here" with the fix when this machine has none."""

import io
import tarfile

import pytest

from graders.engine import toolbox
from graders.errors import EngineError


@pytest.fixture(autouse=True)
def _fresh():
    toolbox._archive.cache_clear()
    yield
    toolbox._archive.cache_clear()


def test_the_archive_holds_busybox_and_links_for_every_applet(tmp_path, monkeypatch):
    fake = tmp_path / "busybox"
    fake.write_bytes(b"\x7fELF" + b"\0" * 5000)  # no interpreter named: static
    monkeypatch.setattr(toolbox, "BUSYBOX", fake)
    with tarfile.open(fileobj=io.BytesIO(toolbox._archive())) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members[".dockerlab/bin/busybox"].size == 5004 and members[".dockerlab/bin/busybox"].mode == 0o755
    assert all(members[f".dockerlab/bin/{a}"].linkname == "busybox" for a in toolbox.APPLETS)
    assert toolbox.SLEEP == "/.dockerlab/bin/sleep" and toolbox.path("/usr/bin") == "/usr/bin:/.dockerlab/bin"


@pytest.mark.parametrize("content, words", [(None, "no static busybox"),
                                            (b"\x7fELF..../lib64/ld-linux-x86-64.so.2", "not statically linked")])
def test_without_a_static_busybox_the_look_is_not_gradable_with_the_fix(tmp_path, monkeypatch, content, words):
    fake = tmp_path / "busybox"
    if content is not None:
        fake.write_bytes(content)
    monkeypatch.setattr(toolbox, "BUSYBOX", fake)
    with pytest.raises(EngineError, match=words) as raised:
        toolbox._archive()
    assert "apt-get install busybox-static" in str(raised.value)
