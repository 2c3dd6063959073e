"""The class gallery: a leaderboard by the exercise's metric, overlaid curves, each student's changes from the
starter, and diverged or overfit runs flagged — from run folders and from checked notebooks."""

from __future__ import annotations

import json

import nbformat
import pytest

from lepton_nb.artifacts.run_folder import RunFolder
from lepton_nb.classroom import gallery
from lepton_nb.cli import main
from lepton_nb.errors import UsageError
from lepton_nb.feedback import MIME
from lepton_nb.tools.exercises import augmentation_starter
from lepton_nb.training.history import History


def epochs(train_acc, val_acc, train_loss, val_loss) -> list[dict]:
    return [{"epoch": i, "step": 10 * (i + 1), "train_accuracy": a, "val_accuracy": b, "train_loss": c,
             "val_loss": d} for i, (a, b, c, d) in enumerate(zip(train_acc, val_acc, train_loss, val_loss))]


def run_folder(root, student: str, changes: dict, status: str, accuracy: float, records: list[dict]) -> None:
    """A run folder as lnb.train writes it (recipe, history, metrics), without training."""
    folder = RunFolder.create(root / student / "runs", "augmentation-exercise")
    folder.write_recipe(augmentation_starter().updated(changes))
    h = History()
    for r in records:
        h.log_epoch(r)
    h.save(folder.path / "history.json")
    folder.write_json("metrics.json", {"status": status, "message": "", "seconds": 3.0, "test": {
        "split": "test", "loss": 0.1, "metrics": {"accuracy": accuracy}, "classes": [str(i) for i in range(10)]}})


@pytest.fixture
def class_folder(tmp_path):
    return make_class_folder(tmp_path / "submissions")


def make_class_folder(root):
    """ann augments and wins, bob's lr diverges, cat overfits, dan hands in a checked notebook, eve's folder is
    damaged."""
    affine = [{"op": "affine", "degrees": 10.0, "translate": 0.1, "scale": 0.1, "shear": 0.0}]
    run_folder(root, "ann", {"augment.ops": affine, "train.epochs": 30}, "completed", 0.976,
               epochs([0.8, 0.95, 0.97], [0.85, 0.95, 0.97], [0.6, 0.2, 0.1], [0.5, 0.2, 0.12]))
    run_folder(root, "bob", {"train.lr": 0.5}, "diverged", 0.1,
               epochs([0.2, 0.1], [0.1, 0.1], [2.3, None], [2.3, None]))
    run_folder(root, "cat", {"model.dropout": 0.0}, "completed", 0.9,
               epochs([0.9, 0.99, 1.0], [0.88, 0.9, 0.86], [0.3, 0.05, 0.01], [0.3, 0.35, 0.45]))
    # dan handed in a notebook whose check output carries his run
    run = {"name": "dan-run", "status": "completed", "recipe": augmentation_starter().to_dict(),
           "metrics": {"accuracy": 0.95}, "epochs": epochs([0.9], [0.94], [0.3], [0.25]), "classes": 10}
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("lnb.exercises.check('augmentation', run=run)", outputs=[
        nbformat.v4.new_output("execute_result", data={"text/plain": "…", MIME: {"exercise": "augmentation",
                                                                                   "checks": [], "run": run}})])]
    (root / "dan").mkdir()
    nbformat.write(nb, root / "dan" / "01_augmentation.ipynb")
    (root / "eve" / "runs" / "broken").mkdir(parents=True)  # a damaged run folder: listed, not fatal
    (root / "eve" / "runs" / "broken" / "recipe.json").write_text("{not json")
    (root / "eve" / "runs" / "broken" / "history.json").write_text("{}")
    return root


def figure(page: str, title: str) -> dict:
    start = page.index(title)
    start = page.rindex("class='lnb-figure'>", 0, start) + len("class='lnb-figure'>")
    return json.loads(page[start:page.index("</script>", start)])


def test_gallery_ranks_flags_and_shows_changes_from_the_starter(class_folder, tmp_path):
    page = gallery(class_folder, tmp_path / "gallery.html", exercise="augmentation").read_text()
    board = page[page.index("<h2>Leaderboard</h2>"):page.index("<h2>Curves</h2>")]
    assert [board.index(s) for s in ("ann", "dan", "cat", "bob")] == sorted(board.index(s) for s in
                                                                           ("ann", "dan", "cat", "bob"))
    bob_row = board[board.index("<td class=l>bob"):]
    assert "flag diverged" in bob_row[:400] and "train.lr: 0.005 → <b>0.5</b>" in bob_row
    cat_row = board[board.index("<td class=l>cat"):]
    assert "flag overfit" in cat_row[:400]
    ann_row = board[board.index("<td class=l>ann"):]
    assert "train.epochs: 12 → <b>30</b>" in ann_row and "augment.ops: [] → " in ann_row and "flag" not in \
        ann_row[:ann_row.index("</tr>")]
    assert "nothing (the starting recipe)" in board[board.index("<td class=l>dan"):]
    assert "eve/runs/broken" in page[page.index("<h2>Not shown</h2>"):]
    curves = figure(page, "validation accuracy per epoch")
    assert {t["name"] for t in curves["data"]} == {"ann", "bob", "cat", "dan"}
    assert next(t for t in curves["data"] if t["name"] == "bob")["line"]["dash"] == "dash"  # flagged
    assert page.count("id='lnb-plotly'") == 1 and "Leaderboard of 4 runs by test accuracy: best ann" in page


def test_anonymous_gallery_shows_no_names(class_folder, tmp_path):
    page = gallery(class_folder, tmp_path / "anon.html", anonymous=True).read_text()
    for name in ("ann", "bob", "cat", "dan", "eve"):
        assert f">{name}<" not in page and f"{name}/" not in page
    assert "student 1" in page and "most common settings" in page


def test_gallery_refuses_an_empty_folder_and_the_command_says_where_it_wrote(class_folder, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no run folder"):
        gallery(tmp_path / "empty", tmp_path / "x.html")
    assert main(["class", "gallery", str(class_folder), "--out", str(tmp_path / "g.html"), "--exercise",
                 "augmentation"]) == 0
    assert f"gallery: {(tmp_path / 'g.html').resolve()}" in capsys.readouterr().out
    assert main(["class", "gallery", str(class_folder), "--exercise", "nope"]) == 2
    assert "exercise: 'nope'" in capsys.readouterr().err
