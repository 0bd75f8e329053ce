"""`dockerlab grade LAB SUBMISSIONS --out DIR [-j N] [--resume] [--gradebook PATH]`: a batch, for instructors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from graders import gradebook as gradebook_mod
from graders.batch import leaderboard, outputs, similarity
from graders.batch.discover import Submission, discover
from graders.batch.grading import grade_all, needs_grading
from graders.commands import course_root, load_course, security
from graders.errors import UsageError
from graders.report import html
from graders.submission import small_text

if TYPE_CHECKING:
    from distributed import Client

    from graders.course import Lab


def main(*, course_path: Path | None, lab_id: str, submissions: Path, out: Path, jobs: int, resume: bool,
         timeout: int, gradebook: Path | None = None, cluster: str | None = None,
         tls: tuple[Path | None, Path | None, Path | None] = (None, None, None)) -> int:
    course = load_course(course_path)
    lab = course.lab(lab_id)
    if lab is None:
        raise UsageError(f"no lab {lab_id!r}; labs: {', '.join(known.id for known in course.labs)}")
    found = discover(submissions.resolve(), lab.id)
    out = out.resolve()
    waiting = sum(not resume or needs_grading(out, s) for s in found)
    console = Console(stderr=True)
    client: Client | None = None
    lost: tuple[type[BaseException], ...] = ()  # the exception that says a cluster's scheduler went away
    if cluster:
        from graders.batch import cluster as cluster_mod

        client, lost = cluster_mod.connect(cluster, security(cluster, tls), course_path), (cluster_mod.SchedulerLost,)
        workers = client.scheduler_info().get("workers", {})
        console.print(f"{len(found)} submissions, {waiting} to grade on {cluster} ({len(workers)} workers; "
                      f"dashboard: {client.dashboard_link or 'off'}) → {out}")
    else:
        console.print(f"{len(found)} submissions, {waiting} to grade, {jobs} at a time → {out}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("grading", total=waiting)

        def done(learner: str, result: dict[str, Any]) -> None:
            progress.advance(task)
            if not console.is_terminal:
                console.print(f"· {learner}: {result['score']:g}/{result['max_score']:g} {outputs.verdict(result)}")

        try:
            grade_all(lab, found, out, jobs=jobs, resume=resume, course_root=course_root(course_path),
                      timeout=timeout, on_done=done, cluster=client)
        except lost as error:
            print(f"the Dask scheduler was lost ({error}); the results that came back are in {out / 'results'}: "
                  "run the same command with --resume to grade the rest")
            return 1
        finally:
            if client is not None:
                cluster_mod.close(client)
    results = outputs.load_results(out)
    write_reports(lab, results, out, similar_pairs(lab, found, course_root(course_path), out))
    book = gradebook or gradebook_mod.find(submissions.resolve())
    if book is not None:
        written = gradebook_mod.write(book, lab, results)
        flagged = f", {written.flagged} grade(s) flagged for manual grading (not gradable here)" if written.flagged else ""
        print(f"nbgrader gradebook {book}: assignment {lab.id}, {written.students} submissions{flagged}")
    stuck = [r["learner"] for r in results if outputs.verdict(r) == "not gradable"]
    print(f"{len(results)} results in {out}: grades.csv, junit.xml, gradescope/, feedback/, summary.html")
    if stuck:
        print(f"not gradable (machine trouble, grade again with --resume after fixing it): {', '.join(stuck)}")
    return 0


def similar_pairs(lab: Lab, found: list[Submission], root: Path, out: Path) -> list[similarity.Pair]:
    """The pairs of submissions alike enough to look at, each with its side-by-side page in similar/."""
    compose = lab.kind == "stack"
    works = [similarity.work(s.learner, text, compose) for s in found if (text := similarity.read(lab, s)) is not None]
    shared = [similarity.work(name, text, compose) for name, folder in (("starter", lab.folder), ("reference", lab.solution))
              if (text := small_text(root / folder / similarity.lab_file(lab))) is not None]
    pairs = similarity.pairs(works, shared, lab.similarity.threshold)
    if pairs:
        (out / "similar").mkdir(exist_ok=True)
    for pair in pairs:
        (out / "similar" / similarity.page_name(pair)).write_text(similarity.side_by_side(pair, lab.title))
    return pairs


def write_reports(lab: Lab, results: list[dict[str, Any]], out: Path, similar: list[similarity.Pair] | None = None) -> None:
    outputs.write_csv(lab, results, out / "grades.csv")
    outputs.write_junit(lab, results, out / "junit.xml")
    outputs.write_gradescope(results, out / "gradescope", lab.leaderboard)
    board = leaderboard.standings(results, lab.leaderboard, leaderboard.key(out)) if lab.leaderboard else None
    (out / "feedback").mkdir(exist_ok=True)
    for result in results:
        places = leaderboard.place(board, result["learner"]) if board else []
        (out / "feedback" / f"{result['learner']}.html").write_text(html.feedback_page(result, lab.title, places))
    (out / "summary.html").write_text(html.summary_page(results, lab.title, [(c.id, c.title) for c in lab.rubric], board,
                                                        similar))

