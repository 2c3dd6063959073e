"""What Binder serves students carries no answer: repo2docker's own ignore rules (docker-py's matcher, the one it
uses) applied to this repository leave out the teacher's sources and the git history, and every notebook left
is free of answer regions and of the sources' answer lines. (The wheel: tests/test_packaging.py.)"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "teacher" / "exercises"


def binder_context() -> set[str]:
    """The files repo2docker copies into the image (repo2docker/buildpacks/base.py: binder/.dockerignore)."""
    build = pytest.importorskip("docker.utils.build")
    lines = [line.strip() for line in (REPO / "binder" / ".dockerignore").read_text().splitlines()]
    return build.exclude_paths(str(REPO), [line for line in lines if line and not line.startswith("#")])


def answer_lines() -> set[str]:
    """Every substantial line of every answer region in the teacher's sources."""
    found = set()
    for path in SOURCES.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            inside = False
            for line in cell.source.splitlines():
                inside = (inside or line.strip() == "### BEGIN SOLUTION") and line.strip() != "### END SOLUTION"
                if inside and len(line.strip()) > 24 and not line.strip().startswith("###"):
                    found.add(line.strip())
    return found


def test_binder_serves_no_answer():
    served = binder_context()
    assert "notebooks/exercises/01_augmentation.ipynb" in served  # the student release is there
    assert not any(p == "teacher" or p.startswith(("teacher/", ".git/")) or p == ".git" for p in served)
    answers = answer_lines()
    assert len(answers) >= 10
    for rel in sorted(p for p in served if p.endswith(".ipynb")):
        text = (REPO / rel).read_text(encoding="utf-8")
        assert "### BEGIN SOLUTION" not in text and "### BEGIN HIDDEN TESTS" not in text, rel
        if rel.startswith("notebooks/exercises/"):
            lines = {line.strip() for cell in nbformat.reads(text, 4).cells for line in cell.source.splitlines()}
            assert lines & answers == set(), rel
