"""Learners' archives: good ones unpack; hostile ones are refused and touch nothing outside."""

import io
import stat
import tarfile
import zipfile

import pytest

from graders.batch.archives import Refused, extract


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zipped:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zipped.writestr(info, data)
    return path


def make_tar(path, members):
    with tarfile.open(path, "w:gz") as tarred:
        for info, data in members:
            tarred.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def member(name, kind=tarfile.REGTYPE, data=b"x", link=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (data if kind == tarfile.REGTYPE else None)


def test_good_archives_unpack_and_a_single_top_folder_is_used(tmp_path):
    zipped = make_zip(tmp_path / "alice.zip", [("alice/Dockerfile", "FROM x\n", stat.S_IFREG | 0o644)])
    folder = extract(zipped, tmp_path / "a")
    assert folder.name == "alice" and (folder / "Dockerfile").read_text() == "FROM x\n"
    tarred = make_tar(tmp_path / "bob.tar.gz", [member("Dockerfile", data=b"FROM y\n"), member("app/main.py")])
    folder = extract(tarred, tmp_path / "b")
    assert (folder / "Dockerfile").read_text() == "FROM y\n" and (folder / "app" / "main.py").exists()


@pytest.mark.parametrize("members, words", [
    ([member("/etc/evil")], "absolute path"),
    ([member("../../evil")], "climbs out"),
    ([member("app/../../evil")], "climbs out"),
    ([member("link", tarfile.SYMTYPE, link="/etc/passwd")], "link"),
    ([member("hard", tarfile.LNKTYPE, link="../outside")], "link"),
    ([member("dev", tarfile.CHRTYPE)], "special file"),
    ([member("fifo", tarfile.FIFOTYPE)], "special file"),
])
def test_hostile_tars_are_refused(tmp_path, members, words):
    archive = make_tar(tmp_path / "mallory.tar.gz", members)
    with pytest.raises(Refused, match=words):
        extract(archive, tmp_path / "work" / "x")
    assert not (tmp_path / "work" / "x").exists()
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()


@pytest.mark.parametrize("name, mode, words", [
    ("../evil", stat.S_IFREG | 0o644, "climbs out"),
    ("/abs", stat.S_IFREG | 0o644, "absolute path"),
    ("C:/windows", stat.S_IFREG | 0o644, "absolute path"),
    ("link", stat.S_IFLNK | 0o777, "symbolic link"),
])
def test_hostile_zips_are_refused(tmp_path, name, mode, words):
    archive = make_zip(tmp_path / "m.zip", [(name, "/etc/passwd", mode)])
    with pytest.raises(Refused, match=words):
        extract(archive, tmp_path / "w")


def test_oversized_archives_are_refused(tmp_path):
    archive = make_zip(tmp_path / "big.zip", [("zeros", b"\0" * 200_000, stat.S_IFREG | 0o644)])
    with pytest.raises(Refused, match="unpacks to over"):
        extract(archive, tmp_path / "w", max_bytes=100_000)


def test_a_zip_that_lies_about_its_size_is_stopped(tmp_path):
    archive = make_zip(tmp_path / "bomb.zip", [("zeros", b"\0" * 300_000, stat.S_IFREG | 0o644)])
    data = bytearray(archive.read_bytes())
    # Make the central directory claim 10 bytes: the declared total passes, the real stream does not.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(Refused):
        extract(archive, tmp_path / "w", max_bytes=100_000)


def test_unreadable_archive(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    with pytest.raises(Refused, match="cannot be read"):
        extract(broken, tmp_path / "w")
