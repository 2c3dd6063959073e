"""Large data tensors reach a studio's training process through shared memory instead of as a copy.

Sending the splits by pickle gives the process its own copy: MNIST-60k as float32 is 188 MB twice, in a
notebook server that may give 2 GB in all. Instead the kernel moves each large tensor of the splits into
an anonymous shared-memory file (Linux ``memfd_create``); its own tensor becomes a mapping of that file
(same values) and the process maps the same pages, so kernel and process hold one copy between them. The
file descriptors travel over the socket pair (SCM_RIGHTS) with the job that needs them. Nothing is
named in the file system, so nothing outlives both processes, whatever kills them. Without memfd
(macOS, Windows) the tensors are copied as before.

Why by hand: torch.multiprocessing shares tensors the same way, but its descriptor passing needs the
processes to be started by multiprocessing (its authkey), and its file-system strategy leaves names in
/dev/shm when a kernel is killed.
"""

from __future__ import annotations

import io
import os
import pickle
import socket
from typing import Any

import torch

from ...data.bundle import Split
from .launch import TrainingProcess
from .protocol import Request

SHARE_BYTES = 4 * 2**20  # tensors from this size travel through shared memory
NAME = "lepton_nb-data"  # as /proc/<pid>/maps shows the mappings


def available() -> bool:
    return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


def _map(fd: int, dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    numel = 1
    for n in shape:
        numel *= n
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.from_file(f"/proc/self/fd/{fd}", shared=True, size=numel, dtype=dtype).view(shape)


class SharedSplits:
    """The kernel's side: which tensors of the splits live in shared memory, and their descriptors."""

    def __init__(self) -> None:
        self.fds: dict[int, int] = {}  # data_ptr of a shared tensor → its memfd (kept open for fresh processes)

    def share(self, splits: dict[str, Split]) -> None:
        """Move every large CPU tensor of ``splits`` into shared memory, in place; forget earlier ones."""
        self.close()
        if not available():
            return
        for split in splits.values():
            for name in ("x", "y"):
                tensor = getattr(split, name)
                if (isinstance(tensor, torch.Tensor) and tensor.device.type == "cpu" and not tensor.requires_grad
                        and tensor.nbytes >= SHARE_BYTES):
                    setattr(split, name, self._move(tensor))

    def _move(self, tensor: torch.Tensor) -> torch.Tensor:
        fd = os.memfd_create(NAME, os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, tensor.nbytes)
            shared = _map(fd, tensor.dtype, tuple(tensor.shape))
            shared.copy_(tensor)
        except BaseException:
            os.close(fd)
            raise
        self.fds[shared.data_ptr()] = fd
        return shared

    def dumps(self, message: Request) -> tuple[bytes, list[int]]:
        """``message`` pickled, with the shared tensors in it as references to the descriptors listed."""
        sent: list[int] = []
        shared = self.fds

        class Pickler(pickle.Pickler):
            def reducer_override(self, obj: Any) -> Any:
                if isinstance(obj, torch.Tensor) and obj.data_ptr() in shared and obj.is_contiguous():
                    sent.append(shared[obj.data_ptr()])
                    return _received, (len(sent) - 1, obj.dtype, tuple(obj.shape))
                return NotImplemented

        buffer = io.BytesIO()
        Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
        return buffer.getvalue(), sent

    def send(self, process: TrainingProcess, message: Request) -> None:
        """Send ``message`` to the process, its shared tensors as descriptors (plainly when there are none)."""
        if not self.fds:
            process.send(message)
            return
        process.send_pickled(*self.dumps(message))

    def close(self) -> None:
        """Close the descriptors (the mappings, and so the tensors, stay valid while they are used)."""
        for fd in self.fds.values():
            os.close(fd)
        self.fds = {}


# the process's side: the descriptors that came with the message being unpickled (one reader thread)
_incoming: list[int] = []


def _received(index: int, dtype: torch.dtype, shape: tuple[int, ...]) -> torch.Tensor:
    return _map(_incoming[index], dtype, shape)


def receive_fds(fileno: int, count: int) -> None:
    """Take the descriptors `send_fds` sent, for the next message's unpickling."""
    global _incoming
    release_incoming()
    with socket.socket(fileno=os.dup(fileno)) as sock:
        _, fds, _, _ = socket.recv_fds(sock, 1, count)
    _incoming = list(fds)


def release_incoming() -> None:
    """Close the received descriptors once their message is unpickled (its tensors keep their mappings)."""
    global _incoming
    for fd in _incoming:
        os.close(fd)
    _incoming = []
