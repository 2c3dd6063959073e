"""Every control of the studio named by its visible label, number fields that step for their scale, images with
text alternatives: checked on the widgets, without a kernel or a browser."""

from __future__ import annotations

import ipywidgets as W
import pytest

from lepton_nb.recipe import Recipe, describe_fields
from lepton_nb.ui.access import NAMED, STEP_LINEAR, STEP_LOG, Picture, labelled, number, step_for
from lepton_nb.ui.forms import FieldControl, RecipeForm
from lepton_nb.ui.midrun import apply_locks
from lepton_nb.ui.render import set_png
from tests.conftest import wait_for
from tests.ui.conftest import settle

# widgets a person types into, picks from or ticks: each needs a name
VALUE_WIDGETS = (W.Text, W.Textarea, W.IntText, W.FloatText, W.BoundedIntText, W.BoundedFloatText, W.Dropdown,
                 W.Select, W.SelectMultiple, W.Checkbox, W.ToggleButtons, W.RadioButtons, W.Combobox)
# ipywidgets' sliders draw handles without an accessible name: the studio uses number fields instead
SLIDERS = (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.IntRangeSlider, W.FloatRangeSlider, W.SelectionSlider,
           W.SelectionRangeSlider)


def walk(widget: W.Widget, seen: set[int] | None = None):
    """A widget and every widget it holds (children, and widgets kept as trait values)."""
    seen = set() if seen is None else seen
    if id(widget) in seen:
        return
    seen.add(id(widget))
    yield widget
    for name in widget.keys:
        value = getattr(widget, name, None)
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, W.DOMWidget):
                yield from walk(item, seen)


def unnamed(root: W.Widget) -> list[str]:
    return [f"{type(w).__name__} {sorted(w._dom_classes)}" for w in walk(root)
            if isinstance(w, VALUE_WIDGETS) and not (w.description.strip() and NAMED in w._dom_classes)]


def test_labelled_links_the_visible_label_and_refuses_an_empty_one():
    box = labelled(W.FloatText(), "learning rate")
    assert box.description == "learning rate" and NAMED in box._dom_classes
    assert box.style.description_width == "130px" and box.layout.width == "300px"  # label column + input
    tick = labelled(W.Checkbox(), "augment")
    assert tick.description == "augment" and tick.indent  # the box lines up with the inputs, its label beside it
    assert not labelled(W.Checkbox(), "search", label_width=None).indent
    with pytest.raises(ValueError, match="visible label"):
        labelled(W.Text(), "  ")


def test_every_form_field_is_named_by_its_label_locked_or_not(tiny):
    form = RecipeForm(tiny)
    for path, control in form.controls().items():
        assert control.widget.description, path
        assert NAMED in control.widget._dom_classes, path
    assert form.controls()["train.lr"].widget.description == "learning rate"  # the metadata's label, not the key

    class Locked:  # a session mid-run, as the locks see it
        state, trainer = "running", None

    apply_locks(form, Locked(), "running", W.HTML(), tiny.train)
    lr = form.controls()["train.lr"].widget
    assert lr.disabled and lr.description == "learning rate" and lr.tooltip  # the reason is extra, not the name


def test_number_fields_step_for_their_scale():
    assert step_for(0.004) == pytest.approx(0.0001)
    assert step_for(0.21) == pytest.approx(0.01)
    assert step_for(16.0) == pytest.approx(1.0)
    assert step_for(0.0, 0.0, 0.5) == pytest.approx(0.01) and step_for(0.0, 0.0, 1e6) == pytest.approx(0.1)
    assert step_for(3.0, integer=True) == 1

    form = RecipeForm(Recipe.default())
    lr = form.controls()["train.lr"].widget
    assert STEP_LOG in lr._dom_classes and lr.step < lr.value  # ×/÷ in the front end; never +1 on 0.003
    momentum = form.controls()["train.momentum"].widget
    assert STEP_LINEAR in momentum._dom_classes and momentum.step == pytest.approx(0.01)
    logs = {f"train.{i['name']}" for i in describe_fields(Recipe.default().train) if i.get("log")}
    assert logs and all(STEP_LOG in form.controls()[k].widget._dom_classes for k in logs)
    prune = number(0.5, "prune", lo=0.1, hi=0.95)
    assert isinstance(prune, W.BoundedFloatText) and prune.step == pytest.approx(0.01) and prune.max == 0.95


def test_an_image_needs_its_text_alternative():
    image = Picture(format="png")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 8 + (12).to_bytes(4, "big") + b"\0" * 8
    with pytest.raises(ValueError, match="text alternative"):
        set_png(image, png, "")
    set_png(image, png, "validation loss curve, 12 epochs, last 0.21")
    assert image.tooltip == "validation loss curve, 12 epochs, last 0.21" and image.layout.display == ""
    set_png(image, None, "")
    assert image.tooltip is None and image.layout.display == "none"
    with pytest.raises(TypeError, match="Picture"):
        set_png(W.Image(format="png"), png, "a plain image cannot carry its text")


def test_a_field_control_keeps_its_name_when_its_value_is_loaded():
    info = next(i for i in describe_fields(Recipe.default().train) if i["name"] == "epochs")
    control = FieldControl("train.epochs", info)
    control.set(7)
    assert control.widget.description == "epochs" and control.get() == 7


@pytest.mark.slow
def test_no_control_of_the_studio_is_unnamed_and_no_shown_image_lacks_its_text(studio):
    """Walks the whole studio (every tab) before and after a run: a new field that forgets its label fails here."""
    assert unnamed(studio.widget) == []
    assert not [w for w in walk(studio.widget) if isinstance(w, SLIDERS)]
    assert studio.start() and studio.wait(120)
    studio.show_tab("Evaluation")
    settle(studio.interpret_panel.task)
    studio.interpret_panel.source.value = "indices"
    assert studio.interpret_panel.explain()
    settle(studio.interpret_panel.task, studio.augment_panel.task, studio.data_panel.norm_task)
    assert wait_for(lambda: studio.interpret_panel.image.value[:4] == b"\x89PNG")
    assert unnamed(studio.widget) == []
    assert not [w for w in walk(studio.widget) if isinstance(w, W.Image) and not isinstance(w, Picture)]
    shown = [w for w in walk(studio.widget) if isinstance(w, Picture) and w.value]
    assert len(shown) >= 4 and all(w.tooltip and len(w.tooltip) > 20 for w in shown), [
        (w._dom_classes, w.tooltip) for w in shown]
    assert "attributions of 4 test image(s)" in studio.interpret_panel.image.tooltip


def test_the_front_end_steps_log_fields_along_1_2_5_and_decimals_by_their_second_digit():
    """widgets/access.js, run by Node (the same module the studio's page loads)."""
    import json
    import shutil
    import subprocess

    from lepton_nb.ui.assets import asset

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    cases = [(0.004, 1, {"log": True}), (0.004, -1, {"log": True}), (0.005, 1, {"log": True}),
             (0.01, -1, {"log": True}), (0.21, 1, {}), (16, 1, {}), (1, -1, {}), (0, 1, {"lo": 0, "hi": 0.5}),
             (0.9, 1, {"lo": 0, "hi": 0.95}), (0.95, 1, {"lo": 0, "hi": 0.95}), (1e-7, -1, {"log": True, "lo": 1e-7})]
    script = (f"import({json.dumps(asset('access.js').as_uri())}).then((m) => console.log(JSON.stringify("
              f"{json.dumps(cases)}.map(([v, d, o]) => m.stepValue(v, d, o)))))")
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == pytest.approx([0.005, 0.002, 0.01, 0.005, 0.22, 17, 0.9, 0.01, 0.91, 0.95,
                                                    1e-7])
