"""The autograder: runs each submitted notebook headless and reads what its checks found.

``grade("submissions", keys="teacher/keys", out="graded")`` finds ``submissions/<student>/…/<notebook>.ipynb``
for every notebook of the teacher folder and, for each one:

1. puts the teacher's check and locked cells back (by nbgrader ``grade_id``; a deleted one is restored at the
   end), so a student cannot edit a check or the exercise's setup;
2. runs it with nbclient in a fresh folder (the teacher folder's data files copied in), one cell at a time
   under one time limit for the whole notebook, with Python's random, NumPy and PyTorch seeded and network
   connections outside this machine refused (a guard installed before the student's first cell, and proxies
   that lead nowhere: this keeps honest code offline; it is no sandbox against code written to escape it —
   nbgrader's isn't either);
3. reads the machine-readable result (`lepton_nb.tools.feedback.MIME`) from the outputs of the check cells
   only — the same output printed by a student's own cell does not count.

`lepton_nb.classroom.gradebook` turns the results into ``gradebook.csv`` and ``checks.csv``; the executed
notebooks are kept as ``feedback/<student>/<notebook>.ipynb`` to hand back.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..errors import UsageError, user_path
from ..feedback import MIME
from ..files import atomic_write
from .cells import CHECK, LOCKED, is_check, meta, role
from .release import notebook_text, read_notebook

#: runs before the student's first cell: seeds, and no connection leaves this machine
PREAMBLE = '''\
import importlib.util as _util, random as _random, socket as _socket, sys as _sys
_seed = {seed}
_random.seed(_seed)
try:
    import numpy as _np
    _np.random.seed(_seed)
except ImportError:
    pass
class _SeedTorchOnImport:  # seeds torch when the notebook imports it: a notebook that does not pays nothing
    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        _sys.meta_path.remove(self)
        spec = _util.find_spec("torch")
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module
            def exec_module(module, _run=run):
                _run(module)
                module.manual_seed(_seed)
            spec.loader.exec_module = exec_module
        return spec
_sys.meta_path.insert(0, _SeedTorchOnImport())
_connect, _connect_ex = _socket.socket.connect, _socket.socket.connect_ex
def _local(sock, address):
    host = address[0] if isinstance(address, tuple) else address
    return sock.family == getattr(_socket, "AF_UNIX", None) or str(host) in ("localhost", "::1") \\
        or str(host).startswith("127.")
def _offline(sock, address, *args):
    if not _local(sock, address):
        raise OSError(f"grading runs offline: no connection to {{address!r}}")
    return _connect(sock, address, *args)
def _offline_ex(sock, address, *args):
    if not _local(sock, address):
        raise OSError(f"grading runs offline: no connection to {{address!r}}")
    return _connect_ex(sock, address, *args)
_socket.socket.connect, _socket.socket.connect_ex = _offline, _offline_ex
del _random
'''
PREAMBLE_TAG = "lepton-nb-grader"
OFFLINE_ENV = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
               "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "no_proxy": "",
               "NO_PROXY": "", "HF_HUB_OFFLINE": "1", "PYTHONHASHSEED": "0", "LEPTON_NB_GRADING": "1",
               "MPLBACKEND": "Agg"}


@dataclass
class CheckResult:
    """One check cell of one submission: its points and every named check with its hint."""

    grade_id: str
    max_points: float
    exercise: str = ""
    passed: int = 0
    total: int = 0
    checks: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""
    error: str = ""
    run: dict[str, Any] | None = None

    @property
    def points(self) -> float:
        return round(self.max_points * self.passed / self.total, 2) if self.total and not self.error else 0.0


@dataclass
class Submission:
    """One student's notebook, graded (or why not: missing, unreadable, error, timeout)."""

    student: str
    notebook: str
    status: str
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    executed: Path | None = None

    @property
    def points(self) -> float:
        return round(sum(r.points for r in self.results), 2)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)


def students_in(submissions: Path) -> list[str]:
    """Every student folder (the folders directly inside ``submissions``, hidden ones skipped)."""
    if not submissions.is_dir():
        raise UsageError("submissions", str(submissions), "allowed: a folder with one folder per student")
    return sorted(p.name for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))


def find_submission(folder: Path, name: str) -> Path | None:
    """The student's notebook called ``name`` (anywhere in their folder; checkpoints skipped)."""
    found = sorted(p for p in folder.rglob(name) if ".ipynb_checkpoints" not in p.parts and p.is_file())
    return found[0] if found else None


def with_teacher_cells(submitted: Any, key: Any) -> tuple[Any, list[str]]:
    """The submission with the key's check and locked cells put back by grade_id; notes on what was restored."""
    nb = copy.deepcopy(submitted)
    kept = {str(meta(c).get("grade_id")): c for c in key.cells if role(c) in (CHECK, LOCKED)}
    seen, notes = set(), []
    for i, cell in enumerate(nb.cells):
        grade_id = str(meta(cell).get("grade_id", ""))
        if grade_id in kept and grade_id not in seen:
            nb.cells[i] = copy.deepcopy(kept[grade_id])
            seen.add(grade_id)
        elif role(cell) in (CHECK, LOCKED):  # a copy of a check, or one the key does not know: not graded
            nb.cells[i] = nbformat.v4.new_code_cell(f"# removed by the grader: a copy of the teacher's cell "
                                                    f"'{grade_id}'")
    missing = [g for g in kept if g not in seen]
    for grade_id in missing:
        nb.cells.append(copy.deepcopy(kept[grade_id]))
    if missing:
        notes.append(f"restored the teacher's cell(s) {', '.join(missing)} that the submission had deleted")
    return nb, notes


def read_results(cell: Any, grade_id: str, points: float) -> CheckResult:
    """What one executed check cell reported."""
    result = CheckResult(grade_id, points)
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            result.error = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
        data = out.get("data", {}).get(MIME)
        if isinstance(data, dict):
            result.exercise = str(data.get("exercise", result.exercise))
            result.checks += [c for c in data.get("checks", []) if isinstance(c, dict)]
            result.note = "; ".join(x for x in (result.note, str(data.get("note") or "")) if x)
            result.run = data.get("run") if isinstance(data.get("run"), dict) else result.run
    result.passed = sum(bool(c.get("passed")) for c in result.checks)
    result.total = len(result.checks)
    if not result.checks and not result.error:
        result.error = "the check cell showed no result (did it end with lnb.exercises.check(...)?)"
    return result


def run_notebook(nb: Any, workdir: Path, timeout: float, seed: int, kernel: str) -> tuple[str, str]:
    """Execute ``nb`` in place under one time limit; returns (status, error)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    pre = nbformat.v4.new_code_cell(PREAMBLE.format(seed=int(seed)), metadata={"tags": [PREAMBLE_TAG]})
    nb.cells.insert(0, pre)
    client = NotebookClient(nb, kernel_name=kernel, allow_errors=True, timeout=int(timeout),
                            resources={"metadata": {"path": str(workdir)}})
    deadline = time.monotonic() + timeout
    env = {**os.environ, **OFFLINE_ENV}
    status, error = "graded", ""
    try:
        # the kernel process's own log (its transport warnings) would drown the gradebook summary; what the
        # notebook prints, warnings included, still reaches its outputs
        with client.setup_kernel(env=env, cwd=str(workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            for index, cell in enumerate(nb.cells):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CellTimeoutError(f"the time limit of {timeout:g} s was reached")
                client.timeout = max(1, int(remaining))
                client.execute_cell(cell, index)
    except CellTimeoutError:
        status, error = "timeout", f"stopped after the time limit of {timeout:g} s"
    except DeadKernelError as exc:
        status, error = "error", f"the kernel died ({exc}): out of memory, or the notebook ended its process"
    except Exception as exc:  # a kernel that cannot start, a client error: the notebook is not graded, others are
        status, error = "error", f"{type(exc).__name__}: {exc}"
    nb.cells.pop(0)
    return status, error


def grade_one(path: Path, student: str, key: Any, key_dir: Path, out: Path, timeout: float, seed: int,
              kernel: str) -> Submission:
    """Grade one notebook; the executed copy goes to ``out/feedback/<student>/<name>``."""
    sub = Submission(student, path.name, "graded")
    try:
        submitted = read_notebook(path)
    except UsageError as exc:
        sub.status, sub.error = "unreadable", str(exc)
        return sub
    nb, notes = with_teacher_cells(submitted, key)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lnb-grade-") as tmp:
        workdir = Path(tmp)
        for extra in sorted(key_dir.rglob("*")):  # the exercise's data files, never the keys themselves
            rel = extra.relative_to(key_dir)
            if extra.is_file() and extra.suffix != ".ipynb" and not any(p.startswith(".") for p in rel.parts):
                (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(extra, workdir / rel)
        sub.status, sub.error = run_notebook(nb, workdir, timeout, seed, kernel)
    sub.seconds = round(time.monotonic() - started, 1)
    checks = {str(meta(c).get("grade_id")): float(meta(c).get("points", 0)) for c in key.cells if is_check(c)}
    by_id = {str(meta(c).get("grade_id")): c for c in nb.cells if is_check(c)}
    sub.results = [read_results(by_id.get(g, {}), g, p) for g, p in checks.items()]
    for i, cell in enumerate(nb.cells):  # the student's own cells that raised: said, not graded
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error" and not is_check(cell):
                notes.append(f"cell {i + 1} raised {o.get('ename', 'Error')}: {o.get('evalue', '')}"[:300])
    if notes:
        sub.error = "; ".join([*notes, sub.error] if sub.error else notes)
    sub.executed = atomic_write(out / "feedback" / student / path.name, notebook_text(nb))
    return sub


def grade(submissions: str | Path, keys: str | Path, out: str | Path, *, timeout: float = 600.0, seed: int = 0,
          kernel: str = "python3", students: list[str] | None = None) -> list[Submission]:
    """Grade every student's copy of every notebook in the teacher folder ``keys``; returns the submissions
    (missing ones included). Write the gradebook with `lepton_nb.classroom.gradebook.write_gradebook`."""
    sub_dir, key_dir, out_dir = (user_path(submissions, "submissions"), user_path(keys, "keys"),
                                 user_path(out, "out"))
    if not (isinstance(timeout, (int, float)) and 0 < timeout <= 24 * 3600):
        raise UsageError("timeout", timeout, "allowed: seconds per notebook, > 0 and ≤ 86400")
    if not key_dir.is_dir() or not list(key_dir.glob("*.ipynb")):
        raise UsageError("keys", str(key_dir), "holds no notebook; allowed: the teacher folder `release` wrote")
    keyed = {p.name: read_notebook(p) for p in sorted(key_dir.glob("*.ipynb"))}
    names = students if students is not None else students_in(sub_dir)
    graded = []
    for student in names:
        for name, key in keyed.items():
            path = find_submission(sub_dir / student, name)
            if path is None:
                checks = [(str(meta(c).get("grade_id")), float(meta(c).get("points", 0))) for c in key.cells
                          if is_check(c)]
                graded.append(Submission(student, name, "missing", [CheckResult(g, p) for g, p in checks],
                                         error=f"no {name} in {sub_dir / student}"))
                continue
            graded.append(grade_one(path, student, key, key_dir, out_dir, float(timeout), seed, kernel))
    return graded


__all__ = ["CheckResult", "PREAMBLE", "Submission", "find_submission", "grade", "grade_one", "read_results",
           "students_in", "with_teacher_cells"]
