"""The opt-in leaderboard of a batch: standings, pseudonyms, the pages and Gradescope's field."""

from __future__ import annotations

import json

import pytest

from graders.batch import leaderboard, outputs
from graders.course import Leaderboard
from graders.report import html

SPEC = Leaderboard(metrics=["image-added", "rebuild", "wasted"])


def result(learner: str, added_mb: float | None, rebuild_s: float | None = None, passed: bool = True,
           wasted_mb: float | None = None) -> dict:
    image = None if added_mb is None else {"size_bytes": int((160 + added_mb) * 1e6), "base_size_bytes": int(160e6),
                                           "wasted_bytes": None if wasted_mb is None else int(wasted_mb * 1e6)}
    return {"learner": learner, "passed": passed, "gradable": True, "image": image, "criteria": [], "score": 90.0,
            "max_score": 100.0, "percent": 90.0, "problems": [], "timings": {} if rebuild_s is None else {"cache": rebuild_s}}


RESULTS = [result("alice", 120.0, 2.5, wasted_mb=1.0), result("bob", 90.0, 4.0), result("carol", 30.0, passed=False),
           result("dave", None)]


def test_only_passing_submissions_with_the_figure_are_ranked_best_first(tmp_path):
    board = leaderboard.standings(RESULTS, SPEC, leaderboard.key(tmp_path))
    assert [e.learner for e in board["image-added"]] == ["bob", "alice"]  # carol did not pass
    assert [(e.learner, e.value) for e in board["rebuild"]] == [("alice", 2.5), ("bob", 4.0)]
    assert [e.learner for e in board["wasted"]] == ["alice"]


def test_pseudonyms_are_stable_in_an_output_folder_and_tell_nothing_elsewhere(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = leaderboard.standings(RESULTS, SPEC, leaderboard.key(tmp_path / "a"))
    again = leaderboard.standings(RESULTS, SPEC, leaderboard.key(tmp_path / "a"))
    other = leaderboard.standings(RESULTS, SPEC, leaderboard.key(tmp_path / "b"))
    names = [e.shown_as for e in first["image-added"]]
    assert names == [e.shown_as for e in again["image-added"]]  # --resume keeps them
    assert names != [e.shown_as for e in other["image-added"]]  # another batch's key: other names
    assert all(name.startswith("learner-") and "bob" not in name for name in names)
    assert (tmp_path / "a" / leaderboard.KEY_FILE).stat().st_mode & 0o077 == 0
    named = leaderboard.standings(RESULTS, Leaderboard(metrics=["image-added"], names="learners"), b"k")
    assert [e.shown_as for e in named["image-added"]] == ["bob", "alice"]


def test_the_summary_draws_it_and_each_learner_sees_their_place(tmp_path):
    board = leaderboard.standings(RESULTS, SPEC, leaderboard.key(tmp_path))
    page = html.summary_page(RESULTS, "Lab 01", [], board)
    assert "<h2>Leaderboard</h2>" in page and "1. " + board["image-added"][0].shown_as in page
    assert ">bob<" not in page.split("<h2>Leaderboard</h2>")[1]  # pseudonyms only
    assert "No passing submission has this figure" not in page
    places = leaderboard.place(board, "alice")
    assert places[0].startswith("Smallest image added over its base: 120 MB, place 2 of 2 (shown as learner-")
    assert "place 2 of 2" in html.feedback_page({**RESULTS[0], "criteria": []}, "Lab 01", places)
    assert leaderboard.place(board, "carol") == []
    assert "<h2>Leaderboard</h2>" not in html.summary_page(RESULTS, "Lab 01", [])  # a lab without one


def test_gradescope_gets_its_leaderboard_field_for_passing_submissions(tmp_path):
    outputs.write_gradescope(RESULTS, tmp_path, SPEC)
    alice = json.loads((tmp_path / "alice" / "results.json").read_text())
    assert alice["leaderboard"] == [{"name": "Smallest image added over its base (MB)", "value": 120.0, "order": "asc"},
                                    {"name": "Fastest rebuild after a code change (s)", "value": 2.5, "order": "asc"},
                                    {"name": "Fewest bytes wasted across layers (MB)", "value": 1.0, "order": "asc"}]
    assert json.loads((tmp_path / "carol" / "results.json").read_text())["leaderboard"] == []
    outputs.write_gradescope(RESULTS, tmp_path / "none")
    assert "leaderboard" not in json.loads((tmp_path / "none" / "alice" / "results.json").read_text())


def test_course_yml_names_only_known_figures():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Leaderboard(metrics=["accuracy"])
    with pytest.raises(ValidationError):
        Leaderboard(metrics=[])
