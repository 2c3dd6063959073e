"""The bridge that carries the studio's widgets to marimo, tested without a kernel or a browser.

What the front end receives is recorded by replacing the bridge's `send`; what it sends is fed to the
bridge's message handler, as marimo would.
"""

import ipywidgets as W
import pytest

import lepton_nb as lnb
from lepton_nb.ui.bridge import REF, StudioBridge, tree


class Recorder:
    def __init__(self, bridge: StudioBridge):
        self.sent: list[tuple[dict, list]] = []
        bridge.send = lambda content, buffers=None: self.sent.append((content, list(buffers or [])))

    def kinds(self) -> list[str]:
        return [c["type"] for c, _ in self.sent]


def from_front_end(bridge: StudioBridge, comm_id: str, data: dict, buffers: list | None = None) -> None:
    bridge._receive(bridge, {"type": "msg", "comm_id": comm_id, "data": data}, buffers or [])


def refs_in(state) -> set[str]:
    if isinstance(state, str):
        return {state[len(REF):]} if state.startswith(REF) else set()
    if isinstance(state, (list, tuple)):
        return set().union(*map(refs_in, state)) if state else set()
    if isinstance(state, dict):
        return set().union(*map(refs_in, state.values())) if state else set()
    return set()


@pytest.fixture(scope="module")
def studio():
    s = lnb.Studio(lnb.Recipe.default().updated({"data.limit": 300}), out=None, worker="thread")
    s.wait_data()  # the first load redraws the data, augment and model panels: let it land before any page boots
    yield s
    s.close()


def test_every_widget_is_sent_after_the_widgets_it_refers_to(studio):
    bridge = StudioBridge(studio.widget)
    models = bridge._boot["models"]
    assert bridge._boot["root"] == studio.widget.model_id == models[-1]["comm_id"]
    assert len(models) == len(tree(studio.widget)) == len(bridge.comms) > 1000  # forms, panels, monitor
    seen: set[str] = set()
    for model in models:
        assert refs_in(model["state"]) <= seen, model["state"]["_model_name"]  # a front end can build it
        seen.add(model["comm_id"])
    names = {m["state"]["_model_name"] for m in models}
    assert {"TabModel", "DropdownModel", "FloatTextModel", "AnyModel"} <= names  # forms and the live monitor
    assert sum(m["buffers"] for m in models) == len(bridge._boot_buffers)  # images travel as buffers


def test_an_edit_and_a_click_in_the_page_reach_the_studio(studio):
    bridge = studio._bridge = StudioBridge(studio.widget)
    lr = studio.form.controls()["train.lr"].widget
    from_front_end(bridge, lr.model_id, {"method": "update", "state": {"value": 0.02}, "buffer_paths": []})
    assert studio.recipe.train.lr == 0.02  # the kernel's widget and the recipe took the edit
    clicked = []
    button = studio.runs_panel.load_button
    button.on_click(clicked.append)
    from_front_end(bridge, button.model_id, {"method": "custom", "content": {"event": "click"}})
    assert clicked == [button]


def test_changes_in_the_kernel_reach_the_page_and_new_widgets_come_first(studio):
    bridge = StudioBridge(studio.widget)
    page = Recorder(bridge)
    studio.update({"train.lr": 0.03})
    updates = [c for c, _ in page.sent if c["type"] == "msg"]
    assert any("lr=0.03" in str(c["data"].get("state", {}).get("value", "")) for c in updates)  # the header
    box = studio.runs_panel.table  # any widget in the tree
    page.sent.clear()
    parent = next(w for w in tree(studio.widget) if isinstance(w, W.Box) and box in w.children)
    fresh = W.HTML("new")
    parent.children = (*parent.children, fresh)
    # the studio's background tasks may update other widgets meanwhile: follow the new widget and its parent
    def opens(c: dict) -> set[str]:
        return {m["comm_id"] for m in c["models"]} if c["type"] == "open" else set()

    mine = [c for c, _ in page.sent if fresh.model_id in opens(c) or c.get("comm_id") in (parent.model_id,
                                                                                          fresh.model_id)]
    assert [c["type"] for c in mine] == ["open", "msg"], mine  # the new widget (with its layout) before the update
    assert fresh.layout.model_id in opens(mine[0])
    assert mine[1]["comm_id"] == parent.model_id and fresh.model_id in refs_in(mine[1]["data"]["state"])
    page.sent.clear()
    fresh.value = "changed"
    assert [c["comm_id"] for c, _ in page.sent if c["type"] != "msg" or c["comm_id"] == fresh.model_id] == [
        fresh.model_id]  # one update, for the new widget itself: no second open


def test_a_page_gets_the_saved_state_until_something_changes_then_the_current_tree(studio):
    studio.wait_data()  # nothing of the studio's own is still drawing when the page boots
    bridge = StudioBridge(studio.widget)
    page = Recorder(bridge)
    bridge._receive(bridge, {"type": "ready"}, [])
    assert page.sent == [({"type": "boot"}, [])]  # nothing changed: no second copy of the tree
    studio.update({"train.lr": 0.04})
    page.sent.clear()
    bridge._receive(bridge, {"type": "ready"}, [])
    (content, _), = page.sent
    assert content["type"] == "open" and content["root"] == studio.widget.model_id
    values = [m["state"].get("value") for m in content["models"]]
    assert 0.04 in values  # the reloaded page sees the edit


def test_images_travel_as_binary_buffers_and_a_closed_widget_leaves_the_page():
    image = W.Image(value=b"\x89PNG fake bytes", format="png")
    root = W.VBox([image])
    bridge = StudioBridge(root)
    entry = next(m for m in bridge._boot["models"] if m["comm_id"] == image.model_id)
    assert entry["buffers"] == 1 and b"\x89PNG fake bytes" in bridge._boot_buffers
    page = Recorder(bridge)
    image.value = b"other"
    (content, buffers), = page.sent
    assert content["data"]["buffer_paths"] == [["value"]] and buffers == [b"other"]
    page.sent.clear()
    image_id = image.model_id
    image.close()
    assert page.sent == [({"type": "msg", "comm_id": image_id, "data": {"method": "close"}}, [])]
