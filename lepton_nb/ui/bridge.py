"""The studio in marimo: its ipywidgets drawn by Jupyter's own widget classes inside one anywidget.

marimo draws anywidgets, not ipywidgets. Rather than keep a second set of forms and panels, the bridge
routes the comm of every widget in the studio's tree through one anywidget's custom messages, and its front
end (widgets/bridge.js, built from frontend/bridge with @jupyter-widgets/controls) runs a small widget
manager over them. Every widget keeps its Python behaviour: edits, clicks and updates from the training
thread travel as the same comm messages Jupyter would carry. Widgets that join the tree later (panels
redrawn after a run) are adopted when an update first refers to them. The state at display time is also
saved in the bridge, so a static export (``marimo export html``) shows the studio as it was.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import Any

import anywidget
import traitlets
from comm.base_comm import BaseComm
from ipywidgets import Widget
from ipywidgets.widgets.widget import _remove_buffers

from .assets import asset

REF = "IPY_MODEL_"


def _leaves(value: Any) -> Iterator[Any]:
    """The values inside nested lists, tuples and dicts (a trait's value, or a serialized state)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def _refs(state: Any) -> Iterator[str]:
    """Model ids a serialized state refers to (children, layout, style...)."""
    return (v[len(REF):] for v in _leaves(state) if isinstance(v, str) and v.startswith(REF))


def tree(root: Widget) -> list[Widget]:
    """`root` and every open widget it refers to through its synced traits, each after those it refers to
    (a front end resolves references when it creates a model, so they must exist first)."""
    order: list[Widget] = []
    seen: set[int] = set()
    stack: list[tuple[Widget, bool]] = [(root, False)]
    while stack:  # iterative post-order: a deep tree cannot hit the recursion limit
        widget, done = stack.pop()
        if done:
            order.append(widget)
            continue
        if id(widget) in seen or widget.comm is None:
            continue
        seen.add(id(widget))
        stack.append((widget, True))
        for name in widget.keys:
            for child in _leaves(getattr(widget, name, None)):
                if isinstance(child, Widget) and id(child) not in seen:
                    stack.append((child, False))
    return order


class BridgeComm(BaseComm):
    """One widget's comm, carried inside the bridge's custom messages."""

    def __init__(self, bridge: StudioBridge, owner: Widget):
        self._bridge = weakref.ref(bridge)
        self.owner = weakref.ref(owner)
        super().__init__(target_name="jupyter.widget", comm_id=owner.model_id, primary=False)

    def publish_msg(self, msg_type: str, data: dict | None = None, metadata: dict | None = None,
                    buffers: list | None = None, **keys: Any) -> None:
        bridge = self._bridge()
        if bridge is None:
            return
        if msg_type == "comm_msg":
            bridge.forward(self, data or {}, buffers or [])
        elif msg_type == "comm_close":
            bridge.forward(self, {"method": "close"}, [])
        # comm_open: the bridge sends each model's state itself, in the order a front end can create them

    def close(self, data: dict | None = None, metadata: dict | None = None, buffers: list | None = None,
              deleting: bool = False) -> None:
        # never registered with the kernel's comm manager, so nothing to unregister there
        super().close(data, metadata, buffers, deleting=True)


class StudioBridge(anywidget.AnyWidget):
    """An anywidget that draws the widget tree under `root` with Jupyter's widget classes."""

    _esm = asset("bridge.js")
    _css = asset("bridge.css")
    _boot = traitlets.Dict().tag(sync=True)  # the tree as displayed: what a static export draws
    _boot_buffers = traitlets.List(traitlets.Bytes()).tag(sync=True)

    def __init__(self, root: Widget, **kwargs: Any):
        super().__init__(**kwargs)
        self._root = root
        self._lock = threading.RLock()
        self.comms: dict[str, BridgeComm] = {}
        self._sent = 0  # comm messages sent so far: while none is, the saved state is the current one
        models, buffers = self._adopt(root, everything=True)
        self._boot, self._boot_buffers = {"root": root.model_id, "models": models}, buffers
        self.on_msg(self._receive)

    def _adopt(self, widget: Widget, everything: bool = False) -> tuple[list[dict], list[bytes]]:
        """Route the comms of `widget`'s tree through the bridge; the open messages of the widgets new to it
        (or of all of them), each after the widgets it refers to."""
        models: list[dict] = []
        buffers: list[bytes] = []
        with self._lock:
            for w in tree(widget):
                known = w.model_id in self.comms
                if not known:
                    comm = BridgeComm(self, w)
                    self.comms[comm.comm_id] = comm
                    w.comm = comm  # ipywidgets listens on the new comm (its `comm` observer)
                if known and not everything:
                    continue
                state, paths, bufs = _remove_buffers(w.get_state())
                models.append({"comm_id": w.model_id, "state": state, "buffer_paths": paths, "buffers": len(bufs)})
                buffers.extend(bytes(b) for b in bufs)
        return models, buffers

    def forward(self, comm: BridgeComm, data: dict, buffers: list) -> None:
        """Send one widget's comm message to the front end, after the widgets it newly refers to."""
        with self._lock:
            state = data.get("state") or {}
            owner = comm.owner()
            if owner is not None and any(ref not in self.comms for ref in _refs(state)):
                models, opened = self._adopt(owner)
                if models:
                    self.send({"type": "open", "models": models}, opened)
            self.send({"type": "msg", "comm_id": comm.comm_id, "data": data}, [bytes(b) for b in buffers])
            self._sent += 1

    def _receive(self, _: Any, content: dict, buffers: list) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ready":  # a view was drawn (a new page, or a reload): it gets the tree as it is now
            with self._lock:
                if not self._sent:  # nothing changed since display: the saved state is current (no 2nd copy)
                    self.send({"type": "boot"})
                    return
                models, opened = self._adopt(self._root, everything=True)
                self.send({"type": "open", "root": self._root.model_id, "models": models}, opened)
        elif kind == "msg":
            comm = self.comms.get(content.get("comm_id", ""))
            if comm is not None:
                comm.handle_msg({"content": {"comm_id": comm.comm_id, "data": content.get("data") or {}},
                                 "buffers": list(buffers or [])})
