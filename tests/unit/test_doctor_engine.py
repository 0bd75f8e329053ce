"""What `dockerlab doctor` says of the engine: its cgroup driver, and an engine older than CI proves."""


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
