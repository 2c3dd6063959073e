"""``lepton-nb class release|grade|gallery``: the teacher's three steps from the command line."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_release(args: argparse.Namespace) -> int:
    from .release import release

    print(release(args.source, args.students, args.keys))
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from .gradebook import summary_rows, write_gradebook
    from .grader import grade

    graded = grade(args.submissions, args.keys, args.out, timeout=args.timeout, seed=args.seed,
                   kernel=args.kernel, students=args.student or None)
    book, checks = write_gradebook(graded, args.out)
    for row in summary_rows(graded):
        print(f"{row['student']:<20} {row['notebook']:<36} {row['status']:<10} {row['points']:g}/"
              f"{row['max_points']:g} points ({row['checks_passed']}/{row['checks_total']} checks)")
    print(f"gradebook: {book}\nchecks: {checks}\nfeedback notebooks: {args.out}/feedback/")
    return 0


def cmd_gallery(args: argparse.Namespace) -> int:
    from .gallery import gallery

    path = gallery(args.folder, args.out, exercise=args.exercise, metric=args.metric, starter=args.starter,
                   anonymous=args.anonymous, title=args.title)
    print(f"gallery: {path.resolve()}")
    return 0


def add_class_parser(sub: Any) -> None:
    """The ``class`` command and its three subcommands, on the ``lepton-nb`` parser's subparsers."""
    p = sub.add_parser("class", help="teach a class: student release, autograder, class gallery")
    steps = p.add_subparsers(dest="step", required=True)

    r = steps.add_parser("release", help="student notebooks without answers, and a teacher folder with the keys")
    r.add_argument("source", help="folder of source notebooks (nbgrader cell metadata, ### BEGIN SOLUTION regions)")
    r.add_argument("--students", required=True, help="folder for the student release (e.g. what Binder opens)")
    r.add_argument("--keys", help="folder for the answer keys (the grader reads them; keep it private)")
    r.set_defaults(func=cmd_release)

    g = steps.add_parser("grade", help="run submitted notebooks headless and write gradebook.csv and checks.csv")
    g.add_argument("submissions", help="folder with one folder per student, holding their notebooks")
    g.add_argument("--keys", required=True, help="the teacher folder `lepton-nb class release --keys` wrote")
    g.add_argument("--out", default="graded", help="folder for the gradebook and feedback notebooks (default: graded)")
    g.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="time limit per notebook in seconds (default: 600)")
    g.add_argument("--seed", type=int, default=0, help="seed of Python's random, NumPy and PyTorch (default: 0)")
    g.add_argument("--kernel", default="python3", help="Jupyter kernel to run them in (default: python3)")
    g.add_argument("--student", action="append", default=[], metavar="NAME", help="grade only this student "
                                                                                   "(repeatable)")
    g.set_defaults(func=cmd_grade)

    v = steps.add_parser("gallery", help="one HTML page of the class's runs: leaderboard, curves, changes, flags")
    v.add_argument("folder", help="submitted run folders or notebooks (one folder per student), or graded/feedback")
    v.add_argument("--out", default="gallery.html", help="HTML file to write (default: gallery.html)")
    v.add_argument("--exercise", help="the exercise (its starting recipe and metric), e.g. augmentation")
    v.add_argument("--metric", help="test metric to rank by (default: the exercise's, or accuracy)")
    v.add_argument("--starter", help="recipe file the students started from (default: the class's common settings)")
    v.add_argument("--anonymous", action="store_true", help="show student 1, student 2, … instead of names")
    v.add_argument("--title", default="", help="the page's title")
    v.set_defaults(func=cmd_gallery)
