"""Kernel output reaches a slow server whole: the studio's burst of widget comms must not lose a message.

A real kernel (jupyter_client) sends a burst of display messages while the client, standing in for a
Jupyter server that is busy elsewhere, reads nothing for two seconds. Without ``keep_iopub_lossless`` the
kernel's publisher drops what does not fit in ZeroMQ's 1,000-message queue (about a third of this burst on
the development machine); with it, the kernel waits and every message arrives.
"""

import queue
import time

import pytest

from lepton_nb.ui.iopub import keep_iopub_lossless
from tests.conftest import HANG_S

jupyter_client = pytest.importorskip("jupyter_client.manager")

BURST = 6000


@pytest.fixture
def kernel():
    km, kc = jupyter_client.start_new_kernel(kernel_name="python3", startup_timeout=HANG_S)
    yield kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc, code: str, pause: float = 0.0, timeout: float = HANG_S) -> list[dict]:
    """Execute ``code``; read nothing for ``pause`` seconds, then every output message up to idle."""
    msg_id = kc.execute(code)
    time.sleep(pause)
    out: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=5)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out
        out.append(msg)
    raise TimeoutError(f"no idle status within {timeout} s; {len(out)} messages read")


def test_every_message_of_a_burst_reaches_a_server_that_is_behind(kernel):
    setup = run(kernel, "from lepton_nb.ui.iopub import keep_iopub_lossless\nprint(keep_iopub_lossless())")
    assert [m["content"]["text"].strip() for m in setup if m["msg_type"] == "stream"] == ["True"]
    burst = run(kernel, "from IPython.display import display\n"
                        f"for i in range({BURST}): display({{'text/plain': str(i).rjust(1500)}}, raw=True)",
                pause=2.0)
    shown = [int(m["content"]["data"]["text/plain"]) for m in burst if m["msg_type"] == "display_data"]
    assert shown == list(range(BURST))


def test_outside_a_kernel_nothing_changes():
    assert keep_iopub_lossless() is False
