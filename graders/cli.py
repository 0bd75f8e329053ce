"""`dockerlab`: parse arguments, call a command's keyword-only main(). No logic lives here.

Exit codes: 0 passed (or the command succeeded), 1 below the pass threshold (or a required part
is missing), 2 usage or configuration error, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from graders import __version__
from graders.errors import ConfigError, DockerlabError, EngineError, UsageError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="dockerlab", description="Docker for ML: labs graded on a real engine.")
    top.add_argument("--version", action="version", version=f"dockerlab {__version__}")
    top.add_argument("--course", type=Path, default=None, help="course.yml to use (default: $DOCKERLAB_COURSE, else the repository's)")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("list", help="show the labs")

    check = sub.add_parser("check", help="build, run and grade a lab submission")
    check.add_argument("lab", help="lab id, e.g. 01-basic-dockerfile")
    check.add_argument("path", nargs="?", type=Path, help="submission folder (default: the lab's folder)")
    check.add_argument("--json", action="store_true", help="print only the JSON result document on stdout")
    check.add_argument("--watch", action="store_true", help="check again whenever a file of the submission changes")

    grade = sub.add_parser("grade", help="grade a folder of submissions (instructors)")
    grade.add_argument("lab", help="lab id, e.g. 01-basic-dockerfile")
    grade.add_argument("submissions", type=Path, help="a folder of per-learner folders or archives, or an nbgrader course")
    grade.add_argument("--out", type=Path, default=Path("grades"), help="where results go (default: grades/)")
    grade.add_argument("-j", "--jobs", type=int, default=2, help="submissions graded at a time (default 2)")
    grade.add_argument("--resume", action="store_true", help="grade only what has no result yet, was not gradable, or changed since")
    grade.add_argument("--timeout", type=int, default=1800, help="seconds allowed for one submission (default 1800)")
    grade.add_argument("--cluster", default=None, metavar="ADDRESS",
                       help="grade on a Dask cluster: local:N (N worker processes here), tcp://HOST:8786 or "
                            "tls://HOST:8786 (workers started with `dockerlab worker`)")
    grade.add_argument("--tls-ca", type=Path, help="with tls://: the course's CA certificate")
    grade.add_argument("--tls-cert", type=Path, help="with tls://: this client's certificate")
    grade.add_argument("--tls-key", type=Path, help="with tls://: this client's private key")
    grade.add_argument("--gradebook", type=Path, default=None,
                       help="an nbgrader gradebook.db to write the grades into (default: the course's, when "
                            "SUBMISSIONS is an nbgrader course)")

    nbgrader = sub.add_parser("nbgrader", help="the labs as an nbgrader course (instructors, maintainers)")
    nbgrader_sub = nbgrader.add_subparsers(dest="nbgrader_command", required=True, metavar="ACTION")
    setup = nbgrader_sub.add_parser("setup", help="lay out an nbgrader course: source/<lab>/ and nbgrader_config.py")
    setup.add_argument("folder", type=Path, help="the nbgrader course folder (made if missing)")
    setup.add_argument("labs", nargs="*", help="lab ids (default: every lab)")
    nbgrader_sub.add_parser("sync", help="rewrite the grading cells of every lab notebook from course.yml")

    doctor = sub.add_parser("doctor", help="check this machine: engine, builder, tools, GPU, disk, base images")
    doctor.add_argument("--json", action="store_true")

    images = sub.add_parser("images", help="base images the course needs")
    images_sub = images.add_subparsers(dest="images_command", required=True, metavar="ACTION")
    prepare = images_sub.add_parser("prepare", help="make every base image in course.yml present")
    prepare.add_argument("--offline", action="store_true", help="do not try a registry; build stand-ins")
    prepare.add_argument("--ca-bundle", type=Path, help="CA bundle to bake into stand-ins (TLS-intercepting proxies)")
    prepare.add_argument("--lab", action="append", dest="labs", metavar="LAB",
                         help="only the images this lab needs (repeatable; default: every image)")

    worker = sub.add_parser("worker", help="grade for a Dask scheduler on this machine's engine (instructors)")
    worker.add_argument("scheduler", help="the scheduler's address, e.g. tls://grader.example.edu:8786")
    worker.add_argument("--resources", default="docker=1",
                        help="what this worker offers: docker=N gradings at a time, gpu=1 on a GPU machine "
                             "(default docker=1)")
    worker.add_argument("--name", default=None, help="a name for the dashboard (default: the address)")
    worker.add_argument("--tls-ca", type=Path, help="with tls://: the course's CA certificate")
    worker.add_argument("--tls-cert", type=Path, help="with tls://: this worker's certificate")
    worker.add_argument("--tls-key", type=Path, help="with tls://: this worker's private key")

    clean_parser = sub.add_parser("clean", help="remove everything dockerlab created that a killed run left behind")
    clean_parser.add_argument("--registry", action="store_true",
                              help="also remove the course registry (Lab 05's CI pushes there) and what it holds")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("\ndockerlab: interrupted; everything it created was removed.", file=sys.stderr)
        return 130
    except (ConfigError, UsageError) as error:
        print(f"dockerlab: {error}", file=sys.stderr)
        return 2
    except EngineError as error:
        print(f"dockerlab: {error}", file=sys.stderr)
        return 1
    except DockerlabError as error:
        print(f"dockerlab: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # never a traceback for users, unless asked
        if os.environ.get("DOCKERLAB_DEBUG"):
            raise
        print(f"dockerlab: internal error: {type(error).__name__}: {error}\n"
              "  (set DOCKERLAB_DEBUG=1 for the traceback, and please report it)", file=sys.stderr)
        return 3


def _dispatch(args: argparse.Namespace) -> int:
    # each command imports only what it uses (nbgrader and jupyter_server take seconds to import)
    if args.command == "list":
        from graders.commands import listing
        return listing.main(course_path=args.course)
    if args.command == "check":
        from graders.commands import check
        return check.main(course_path=args.course, lab_id=args.lab, path=args.path, as_json=args.json, watch=args.watch)
    if args.command == "grade":
        from graders.commands import grade
        return grade.main(course_path=args.course, lab_id=args.lab, submissions=args.submissions, out=args.out,
                          jobs=args.jobs, resume=args.resume, timeout=args.timeout, gradebook=args.gradebook,
                          cluster=args.cluster, tls=(args.tls_ca, args.tls_cert, args.tls_key))
    if args.command == "worker":
        from graders.commands import worker
        return worker.main(course_path=args.course, scheduler=args.scheduler, resources=args.resources,
                           name=args.name, tls=(args.tls_ca, args.tls_cert, args.tls_key))
    if args.command == "nbgrader":
        from graders.commands import nbgrader
        if args.nbgrader_command == "setup":
            return nbgrader.setup(course_path=args.course, folder=args.folder, lab_ids=args.labs)
        return nbgrader.sync(course_path=args.course)
    if args.command == "doctor":
        from graders.commands import doctor
        return doctor.main(course_path=args.course, as_json=args.json)
    if args.command == "images":
        from graders.commands import images
        return images.main(course_path=args.course, offline=args.offline, ca_bundle=args.ca_bundle, labs=args.labs)
    if args.command == "clean":
        from graders.commands import clean
        return clean.main(registry=args.registry)
    raise UsageError(f"unknown command {args.command}")
