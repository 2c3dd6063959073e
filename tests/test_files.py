"""The one atomic write: whole files or none, temporary files of dead writers removed (never a live one's), and
the fault-injection hook that ends the process at the k-th write."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lepton_nb.files import (
    KILL_ENV,
    WRITE_LOG_ENV,
    atomic_path,
    atomic_write,
    atomic_write_json,
    remove_stale_temp_files,
    temp_files,
)

REPO = Path(__file__).resolve().parents[1]


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=500)))
def test_atomic_write_round_trips_bytes_and_text(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("w") / "sub" / "f.bin"
    atomic_write(path, content)
    expected = content.encode("utf-8") if isinstance(content, str) else content
    assert path.read_bytes() == expected and temp_files(path.parent) == []


def test_a_failing_writer_leaves_the_previous_file_and_no_temp_file(tmp_path):
    path = atomic_write_json(tmp_path / "a.json", {"v": 1})

    def broken(fh):
        fh.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    with pytest.raises(ValueError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise ValueError("exporter failed")
    assert path.read_text() == '{"v": 1}\n' and temp_files(tmp_path) == []
    with atomic_path(tmp_path / "m.onnx") as tmp:  # writers that need a file name
        assert tmp.parent == tmp_path and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"model")
    assert (tmp_path / "m.onnx").read_bytes() == b"model"


def test_dead_writers_temp_files_go_live_ones_stay_also_in_sub_folders(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    dead = [tmp_path / ".history.json.999999999.tmp", tmp_path / "checkpoints" / ".last.pt.999999998.tmp"]
    live = [tmp_path / f".metrics.json.{os.getppid()}.tmp",  # the parent process is alive
            tmp_path / "checkpoints" / f".best.pt.{os.getpid()}.tmp"]  # ours: another thread may be writing it
    for p in dead + live:
        p.write_bytes(b"partial")
    assert remove_stale_temp_files(tmp_path) == [dead[0]]
    assert remove_stale_temp_files(tmp_path, recursive=True) == [dead[1]]
    assert all(p.exists() for p in live)


CHILD = """
import sys
from lepton_nb.files import atomic_write
for i in range(5):
    atomic_write(sys.argv[1] + f"/f{i}.txt", str(i))
print("finished")
"""


@pytest.mark.parametrize("k", [1, 2, 5, 10, 11])
def test_the_kill_hook_ends_the_process_at_the_kth_point(tmp_path, k):
    """Two points per write: the temporary file complete (odd k), the file in place (even k)."""
    log = tmp_path / "points.log"
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(out)], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, KILL_ENV: str(k), WRITE_LOG_ENV: str(log)})
    points = log.read_text().splitlines()
    if k > 10:
        assert proc.returncode == 0 and "finished" in proc.stdout and len(points) == 10
        return
    assert proc.returncode == -signal.SIGKILL and len(points) == k
    assert points[-1].split("\t")[:2] == [str(k), "temp" if k % 2 else "done"]
    written = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert written == [f"f{i}.txt" for i in range(k // 2)]
    assert len(temp_files(out)) == k % 2  # killed between the temporary file and its rename
    assert len(remove_stale_temp_files(out)) == k % 2 and temp_files(out) == []
