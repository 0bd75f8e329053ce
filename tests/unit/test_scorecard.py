"""The scorecard a learner sees in JupyterLab, from a result document; and the %dockerlab magic."""

from pathlib import Path

import pytest

from graders import notebook
from graders.report import scorecard

ROOT = Path(__file__).resolve().parents[2]


def criterion(id, status, points, max_points, message="", hint=""):
    return {"id": id, "title": id.title(), "status": status, "points": points, "max_points": max_points,
            "message": message, "hint": hint, "evidence": {}, "visibility": "visible"}


RESULT = {
    "lab": "01-basic-dockerfile", "score": 70, "max_score": 90, "percent": 77.8, "passed": True,
    "problems": [], "image": None, "build": None,
    "criteria": [
        criterion("builds", "passed", 10, 10, "built in 3 s", 'Fix the first error (README, section 3 "Build and run it").'),
        criterion("non-root", "failed", 0, 10, "runs as root", 'Add a user (README, section 6 "Don\'t run as root").'),
        criterion("size", "partial", 5, 10, "400 MB <b>added</b>", "Slim it (README, section 5 \"Keeping the image small\")."),
        criterion("gpu", "not_gradable", 0, 10, "no GPU runtime here"),
    ],
}


def test_the_scorecard_shows_marks_hints_linked_to_readme_sections_and_what_to_fix_next():
    page = scorecard.render(RESULT)
    assert "70 / 90 points" in page and "passed" in page
    assert 'data-criterion="non-root" class="failed"' in page
    assert '<a href="README.md#6.-Don%27t-run-as-root"' in page
    assert "&lt;b&gt;added&lt;/b&gt;" in page  # the learner's output is text, never markup
    assert "not gradable on this machine" in page
    assert "built in 3 s" in page and "Fix the first error" not in page  # no hint for a passed criterion
    next_step = page.split('<div class="next">', 1)[1].split("</div>", 1)[0]
    assert "Non-Root (10 points)" in next_step


def test_the_magic_finds_the_lab_from_the_folder_and_explains_its_usage(tmp_path, capsys, monkeypatch):
    assert notebook._lab_of(ROOT / "labs" / "01-basic-dockerfile", ROOT / "course.yml") == "01-basic-dockerfile"
    with pytest.raises(notebook.UsageError, match="not a lab folder"):
        notebook._lab_of(tmp_path, ROOT / "course.yml")
    assert notebook._magic("grade everything") is None
    assert "usage: %dockerlab check" in capsys.readouterr().out
    seen = []
    monkeypatch.setattr(notebook, "check", lambda lab, folder: seen.append((lab, folder)) or "card")
    assert notebook._magic("check") == "card" and notebook._magic("check 02-multi-stage ../x") == "card"
    assert seen == [(None, "."), ("02-multi-stage", "../x")]


def every_view(document: dict, criterion_id: str, maximum: float, capsys) -> dict[str, str]:
    """The document as each view shows it: scorecard, feedback page, terminal, and a notebook cell
    asking for `criterion_id`."""
    from rich.console import Console

    from graders.report import html, terminal
    from graders.results import CriterionResult, Environment, GradingResult

    views = {"scorecard": scorecard.render(document),
             "feedback page": html.feedback_page(dict(document, learner="ada", refusals=[]), "Lab 01")}
    result = GradingResult("01-basic-dockerfile", "x", 70, maximum, True,
                           [CriterionResult(**c) for c in document["criteria"]], None, Environment(), {})
    console = Console(record=True, width=200)
    terminal.render(result, console)
    views["terminal"] = console.export_text()
    notebook.NotebookGrade(result).points(criterion_id)
    views["notebook cell"] = capsys.readouterr().out
    return views


def test_a_hidden_criterion_shows_its_mark_and_points_but_no_message_hint_or_evidence_in_every_view(capsys):
    secret = dict(criterion("secret-case", "failed", 0, 20, "expected class virginica for [6.3, 2.5]",
                            'Check the model (README, section 7 "Serving").'), visibility="hidden")
    secret["evidence"] = {"body": "the hidden input"}
    views = every_view(dict(RESULT, criteria=[*RESULT["criteria"], secret]), "secret-case", 110, capsys)
    for view, text in views.items():
        assert "ecret" in text, view  # its title is shown
        for withheld in ("virginica", "Check the model", "the hidden input"):
            assert withheld not in text, (view, withheld)
        assert "your instructor sees the details" in text, view
    next_step = views["scorecard"].split('<div class="next">', 1)[1].split("</div>", 1)[0]
    assert "Secret" not in next_step  # the next step never points at a hidden criterion


def test_a_skipped_criterion_is_named_as_waiting_in_every_view_never_as_a_loss(capsys):
    waiting = criterion("dockerignore", "skipped", 0, 5, "judged once 'predict' passes: fix that first")
    views = every_view(dict(RESULT, criteria=[*RESULT["criteria"], waiting]), "dockerignore", 90, capsys)
    for view, text in views.items():
        assert "judged once 'predict' passes" in text.replace("&#x27;", "'"), view
        assert "↷" in text, view
    assert "n/a" in views["scorecard"].split('data-criterion="dockerignore"', 1)[1].split("</tr>", 1)[0]
    assert "left out of the maximum until then" in views["terminal"]
    next_step = views["scorecard"].split('<div class="next">', 1)[1].split("</div>", 1)[0]
    assert "Dockerignore" not in next_step  # what to fix next is the criterion it waits on, never the skipped one
