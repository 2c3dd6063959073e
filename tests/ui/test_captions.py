"""Captions change together with what they describe, with a busy state between (never ahead of it)."""

from lepton_nb.ui.render import BUSY
from tests.conftest import HANG_S
from tests.ui.conftest import settle


def changes(*widgets):
    log = []
    for name, widget, trait in widgets:
        widget.observe(lambda c, n=name: log.append((n, c["new"])), names=trait)
    return log


def test_confusion_cell_caption_follows_its_samples(studio):
    assert studio.start() and studio.wait(HANG_S)
    panel = studio.evaluate_panel
    studio.show_tab("Evaluation")
    log = changes(("title", panel.cell_title, "value"), ("png", panel.cell_png, "value"),
                  ("classes", panel.cell_png, "_dom_classes"))
    panel.confusion.selected = [1, 1]
    order = [name for name, value in log if name == "png" or (name == "title" and "loading" not in str(value))]
    assert order[-2:] == ["png", "title"]  # the final caption comes with (after) its images
    busy = [value for name, value in log if name == "title" and "loading" in str(value)]
    assert busy and log.index(("title", busy[0])) < [n for n, _ in log].index("png")
    assert "class 1 correctly classified" in panel.cell_title.value and "loading" not in panel.cell_title.value
    # the old images are dimmed (a class: a trait the browser gets) from before the new ones until they are there
    dimmed = [i for i, (name, value) in enumerate(log) if name == "classes" and BUSY in value]
    undimmed = [i for i, (name, value) in enumerate(log) if name == "classes" and BUSY not in value]
    png = [n for n, _ in log].index("png")
    assert dimmed and undimmed and dimmed[0] < png < undimmed[-1]
    assert BUSY not in panel.cell_png._dom_classes


def test_explain_says_done_only_when_its_pictures_are_there(studio):
    assert studio.start() and studio.wait(HANG_S)
    panel = studio.interpret_panel
    panel.source.value = "indices"
    panel.indices.value = "0, 1"
    log = changes(("status", panel.status, "value"), ("image", panel.image, "value"))
    assert panel.explain()
    assert BUSY in panel.image._dom_classes  # the previous pictures are dimmed (a trait the browser gets)
    settle(panel.task)
    names = [n for n, _ in log]
    assert names[0] == "status" and "explaining" in log[0][1]  # busy first
    assert names[-1] == "status" and "completeness gap" in log[-1][1]
    assert names.index("image") < len(names) - 1 and BUSY not in panel.image._dom_classes
