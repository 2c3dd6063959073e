"""Run folders: created atomically (threads and processes asking for the same name each get their own) and
always inside ``out``."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lepton_nb.artifacts import RunFolder
from lepton_nb.errors import LeptonError
from tests.conftest import HANG_S

REPO = Path(__file__).resolve().parents[2]


def test_six_threads_creating_the_same_name_each_get_their_own_folder(tmp_path):
    folders, errors = [], []
    barrier = threading.Barrier(6)

    def create():
        barrier.wait()
        try:
            folders.append(RunFolder.create(tmp_path, "same").path)
        except Exception as exc:  # any exception is the failure looked for
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(folders)) == 6
    assert all(p.parent == tmp_path and p.is_dir() for p in folders)


def test_two_processes_creating_the_same_name_never_share_a_folder(tmp_path):
    code = ("import sys; from lepton_nb.artifacts import RunFolder\n"
            "print('\\n'.join(str(RunFolder.create(sys.argv[1], 'same').path) for _ in range(15)))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=REPO) for _ in range(2)]
    paths = [line for p in procs for line in p.communicate(timeout=HANG_S)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(paths) == 30 == len(set(paths)) == len(list(tmp_path.iterdir()))


@pytest.mark.parametrize("name", ["../../x", "/abs/olute", "a\x00b", "a" * 300])
def test_a_name_that_would_leave_out_or_break_the_file_system_is_refused(tmp_path, name):
    with pytest.raises(LeptonError, match="name"):
        RunFolder.create(tmp_path / "out", name)
    assert list(tmp_path.iterdir()) == []  # checked before anything is created
