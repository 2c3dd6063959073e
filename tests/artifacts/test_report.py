import re

import lepton_nb as lnb
from tests.conftest import tiny_recipe


def test_report_is_self_contained_and_has_every_section(tmp_path):
    run = lnb.train(tiny_recipe(), progress=False, out=tmp_path)
    html = (run.dir / "report.html").read_text()
    for heading in ("Test metrics", "Training curves", "Confusion matrix", "Per class", "Misclassified examples",
                    "Data", "Recipe"):
        assert f"<h2>{heading}</h2>" in html
    assert not re.search(r"(src|href)=[\"']?https?://", html)  # opens offline
    assert f"{run.metrics['accuracy']:.4f}" in html
    # curves, confusion matrix and per-class scores are interactive (plotly.js embedded once), each with words
    assert html.count("class='lnb-chart'") == 5 and html.count("id='lnb-plotly'") == 1
    assert "Loss over" in html and "Confusion matrix of" in html and "misclassified" in html
    assert html.count("data:image/png;base64,") >= 1  # the misclassified samples stay a picture
    assert len(html.encode()) < 1_200_000  # small enough to mail


def test_text_report_lists_misclassified_sentences(tmp_path, imdb_path):
    r = lnb.Recipe.preset("sentiment").updated({"data.path": str(imdb_path), "train.epochs": 2})
    run = lnb.train(r, progress=False, out=tmp_path)
    html = (run.dir / "report.html").read_text()
    assert "<th class=\"l\">sentence</th>" in html
