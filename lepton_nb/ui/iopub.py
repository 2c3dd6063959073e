"""Kernel output that is never dropped on the way to the page.

The studio opens about 3,300 widget comms at once. ipykernel publishes its output through a ZeroMQ XPUB
socket that keeps at most 1,000 messages per subscriber and silently drops the rest while the Jupyter server
is behind (a loaded classroom server, a 2-core CI machine). Dropped ``comm_open`` messages leave widgets the
page never heard of: the studio then shows "Error displaying widget: model not found" or "Click to show
javascript error" in place of its tabs. ZeroMQ's ``XPUB_NODROP`` makes the publisher wait for the server
instead, which is what a notebook needs: every message arrives, a moment later when the server is busy.
"""

from __future__ import annotations

import contextlib
from typing import Any


def _iopub_thread() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    return getattr(getattr(shell, "kernel", None), "iopub_thread", None)


def keep_iopub_lossless() -> bool:
    """Make the running kernel's output publisher wait for a slow server rather than drop messages.

    True inside an ipykernel kernel with a ZeroMQ publisher; outside a kernel (a script, marimo, tests
    without a kernel) nothing changes and the answer is False. The option is set on the publisher's own
    thread (ZeroMQ sockets are not thread-safe), ahead of every message sent after this call.
    """
    thread = _iopub_thread()
    socket = getattr(thread, "socket", None)
    if thread is None or socket is None or not hasattr(thread, "schedule") or not hasattr(socket, "setsockopt"):
        return False
    import zmq

    def set_nodrop() -> None:
        with contextlib.suppress(zmq.ZMQError):  # a libzmq that does not know the option keeps its behaviour
            socket.setsockopt(zmq.XPUB_NODROP, 1)

    try:
        if socket.getsockopt(zmq.TYPE) not in (zmq.XPUB, zmq.PUB):
            return False
    except zmq.ZMQError:
        return False
    thread.schedule(set_nodrop)
    return True
