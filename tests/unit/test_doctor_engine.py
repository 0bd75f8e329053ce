"""What `dockerlab doctor` says of the engine: its cgroup driver, an engine older than CI proves, and no engine."""


def test_doctor_calls_an_engine_older_than_the_oldest_proved_by_its_name():
    from graders.commands.doctor import _engine
    from graders.engine.client import older_than_proved

    assert older_than_proved("19.03.15") and older_than_proved("18.09.1-ce")
    assert not older_than_proved("20.10.24+dfsg1") and not older_than_proved("28.5.2+dfsg4")
    assert not older_than_proved("?")
    info = {"engine_version": "19.03.15", "api_version": "1.40", "storage_driver": "overlay2",
            "cgroup_version": "1", "cgroup_driver": "cgroupfs"}
    old = _engine(info)
    assert not old.ok and old.red and "20.10" in old.fix
    assert _engine({**info, "engine_version": "26.1.5+dfsg1"}).ok


def test_doctor_without_an_engine_says_so_on_every_line_that_needs_one(monkeypatch):
    from graders.commands import doctor

    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    items = {item.name: item for item in doctor.gather(None)}
    assert not items["engine"].ok and "./dev setup" in items["engine"].fix
    assert items["build sandbox"].detail == "unknown (no engine)" and items["build sandbox"].red
    assert items["image python:3.11-slim"].detail == "unknown (no engine)" and items["image python:3.11-slim"].required
    assert {"hadolint", "dive", "compose", "gpu", "disk"} <= set(items)  # the tools beside the engine are still looked at
