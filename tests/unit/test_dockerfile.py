"""The Dockerfile as the checks read it: BuildKit's own parser (the `dockerfile` package) and our layer on it."""

import pytest

from graders.dockerfile import parse, parse_assignments, substitute
from graders.errors import DockerfileError


def test_stages_names_and_root_base():
    df = parse("ARG PY=3.11\nFROM python:${PY}-slim AS builder\nRUN echo hi\nFROM builder AS final\nCMD [\"x\"]\n")
    assert [s.name for s in df.stages] == ["builder", "final"]
    assert df.stages[0].base == "python:3.11-slim"
    assert df.root_base() == "python:3.11-slim"
    assert df.stage("0") is df.stages[0]


def test_continuations_skip_comments_and_blank_lines():
    df = parse("FROM x\nRUN apt-get update \\\n# a comment inside\n\n    && echo done\nCMD [\"a\"]\n")
    run = df.final.last("RUN")
    assert run.shell == "apt-get update     && echo done"
    assert (run.line, run.end_line) == (2, 5)
    assert df.final.last("CMD").line == 6


def test_escape_directive_changes_the_continuation_character():
    df = parse("# escape=`\nFROM x\nRUN echo a `\n  b\n")
    assert df.final.last("RUN").shell == "echo a   b"


def test_directive_only_at_the_top():
    df = parse("FROM x\n# escape=`\nRUN echo \\\n  ok\n")
    assert df.final.last("RUN").shell == "echo   ok"


def test_exec_and_shell_forms():
    df = parse('FROM x\nCMD ["uvicorn", "app:app"]\nENTRYPOINT python -m app\n')
    cmd, entrypoint = df.final.last("CMD"), df.final.last("ENTRYPOINT")
    assert cmd.exec_form and cmd.args == ["uvicorn", "app:app"]
    assert not entrypoint.exec_form and entrypoint.shell == "python -m app"


def test_invalid_json_falls_back_to_shell_form():
    cmd = parse("FROM x\nCMD [uvicorn, app]\n").final.last("CMD")
    assert not cmd.exec_form and cmd.shell == "[uvicorn, app]"


def test_flags_are_taken_off_the_arguments():
    df = parse("FROM x\nRUN --mount=type=cache,target=/root/.cache/pip pip install -r r.txt\n"
               "COPY --from=builder --chown=app:app /opt/venv /opt/venv\n")
    run, copy = df.final.last("RUN"), df.final.last("COPY")
    assert run.flags == {"mount": ["type=cache,target=/root/.cache/pip"]}
    assert run.shell == "pip install -r r.txt"
    assert copy.flags == {"from": ["builder"], "chown": ["app:app"]}


def test_heredoc_body_is_read_and_lines_advance():
    df = parse("FROM x\nRUN <<EOF\necho one\necho two\nEOF\nCMD [\"y\"]\n")
    run = df.final.last("RUN")
    assert run.heredocs == ["echo one\necho two\n"]
    assert df.final.last("CMD").line == 6


def test_healthcheck_forms():
    df = parse('FROM x\nHEALTHCHECK --interval=5s CMD ["python", "-c", "0"]\n')
    check = df.final.last("HEALTHCHECK")
    assert check.flags == {"interval": ["5s"]} and check.exec_form and check.args[0] == "python"
    assert parse("FROM x\nHEALTHCHECK NONE\n").final.last("HEALTHCHECK").args == ["NONE"]


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("FORM python:3.11-slim\n", 1, "did you mean FROM"),
        ("", None, "no instructions"),
        ("# only a comment\n\n", None, "no instructions"),
        ("RUN echo hi\nFROM x\n", 1, "before the first FROM"),
        ("FROM x\nRUN <<EOF\necho\n", 2, "never closed"),
        ("FROM x\nHEALTHCHECK curl -f localhost\n", 2, "CMD or NONE"),
        ("FROM a b c d\n", 1, "optional 'AS name'"),
        ("FROM x\nSHELL /bin/bash -c\n", 2, "JSON form"),
        ("FROM x\nRUN true\nRUN echo " + "a" * 70000 + "\n", 3, "longer than BuildKit's limit"),
        ("FROM x\nCOPY <<one <<two /dst/\nA\none\nB\n", 2, "<<two is never closed"),
    ],
)
def test_errors_name_the_line_and_the_fix(text, line, words):
    with pytest.raises(DockerfileError) as caught:
        parse(text)
    assert caught.value.line == line
    assert words in str(caught.value) + caught.value.fix


def test_substitute_defaults_and_alternatives():
    assert substitute("${A:-x}-${B:+y}-$C", {"B": "1", "C": "c"}) == "x-y-c"


def test_assignments():
    assert parse_assignments('A=1 B="two words"') == {"A": "1", "B": "two words"}
    assert parse_assignments("LEGACY value with spaces") == {"LEGACY": "value with spaces"}


def test_copies_from_earlier_stages_only():
    df = parse("FROM a AS builder\nRUN x\nFROM b\nCOPY --from=builder /o /o\nCOPY --from=nginx:1 /e /e\n"
               "COPY --from=0 /p /p\nCOPY y /y\n")
    assert [(i.line, s.index) for i, s in df.copies_from_stages()] == [(4, 0), (6, 0)]


def test_a_bind_mount_from_an_earlier_stage_carries_from_it_too():
    """Wheels installed through `RUN --mount=type=bind,from=builder` reach the image with no layer of their own."""
    df = parse("FROM a AS builder\nRUN pip wheel -w /wheels x\nFROM b\n"
               "RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels pip install --no-index /wheels/*\n"
               "RUN --mount=from=builder,target=/w true\n"
               "RUN --mount=type=cache,from=builder,target=/c true\nRUN --mount=type=bind,from=nginx:1,target=/n true\n")
    assert [(i.line, s.name) for i, s in df.copies_from_stages()] == [(4, "builder"), (5, "builder")]


def test_what_buildkit_accepts_that_a_home_made_grammar_may_not():
    df = parse("\ufeff# syntax=docker/dockerfile:1\nfrom --platform=linux/amd64 python:3.11-slim as base\n"
               "RUN\techo tab\nONBUILD RUN echo later\nCOPY <<a.txt <<b.txt /dst/\nA\na.txt\nB\nb.txt\n"
               "RUN --network=none -- echo hi\n")
    assert df.final.name == "base" and df.final.base == "python:3.11-slim"
    assert df.instructions[0].flags == {"platform": ["linux/amd64"]}
    run, onbuild, copy, last = df.final.instructions
    assert run.shell == "echo tab" and onbuild.raw == "RUN echo later"
    assert copy.heredocs == ["A\n", "B\n"] and (copy.line, copy.end_line) == (5, 9)
    assert last.flags == {"network": ["none"]} and last.shell == "echo hi"


def test_a_dash_heredoc_loses_its_leading_tabs_as_buildkit_runs_it():
    """BuildKit's parser keeps the tabs of `<<-EOF` (the builder strips them later); we strip them here."""
    run = parse("FROM x\nRUN <<-EOF\n\tpip install x\n\tEOF\n").final.last("RUN")
    assert run.heredocs == ["pip install x\n"] and run.raw == "<<-EOF"
