import base64

import numpy as np

import lepton_nb as lnb
from lepton_nb.ui.views.timeline import encode_frame
from tests.conftest import HANG_S, tiny_recipe
from tests.ui.conftest import settle


def captured(widget):
    sent = []
    widget.send = lambda content, buffers=None: sent.append(content)
    return sent


def test_timeline_receives_frames_as_training_goes(studio):
    studio.update({"interpret.every_n_epochs": 1, "train.epochs": 3})
    timeline = studio.interpret_panel.timeline
    sent = captured(timeline)
    assert studio.start() and studio.wait(HANG_S)
    appended = [m for m in sent if m["type"] == "frames"]
    assert sum(len(m["frames"]) for m in appended) == 3
    assert [m["start"] for m in appended] == sorted(m["start"] for m in appended)
    assert len(timeline.probes) == 8 and timeline.kind == "image" and timeline.classes[:2] == ["0", "1"]
    timeline._handle_custom_msg({"type": "hello"}, [])
    reset = sent[-1]
    assert reset["type"] == "reset" and [f["epoch"] for f in reset["frames"]] == [0, 1, 2]
    q = np.frombuffer(base64.b64decode(reset["frames"][-1]["data"][0]), dtype=np.int8)
    assert q.shape == (64,) and np.abs(q).max() == 127 or np.abs(q).max() > 100


def test_encoded_frame_keeps_sign_and_relative_size():
    attrs = np.zeros((2, 1, 2, 2), dtype=np.float16)
    attrs[0, 0, 0, 0], attrs[1, 0, 1, 1] = 2.0, -1.0
    frame = encode_frame({"epoch": 4, "predictions": [1, 2], "confidence": [0.9, 0.5], "attributions": attrs},
                         "image", [])
    a = np.frombuffer(base64.b64decode(frame["data"][0]), dtype=np.int8)
    b = np.frombuffer(base64.b64decode(frame["data"][1]), dtype=np.int8)
    assert a[0] > 0 and b[3] < 0 and abs(int(b[3])) < abs(int(a[0]))


def test_explain_chosen_samples_and_class_averages(studio):
    assert studio.start() and studio.wait(HANG_S)
    panel = studio.interpret_panel
    assert "grad_cam" in [v for _, v in panel.method.options]
    panel.source.value = "indices"
    panel.indices.value = "0, 3, 99999"
    assert not panel.explain() and "indices" in panel.status.value and "allowed" in panel.status.value
    panel.indices.value = "0, 3, 5"
    assert panel.explain()
    settle(panel.task)
    assert panel.image.value[:4] == b"\x89PNG" and "completeness gap" in panel.status.value
    assert panel.result.attributions.shape == (3, 1, 8, 8)
    panel.source.value = "cell"
    panel.method.value = "grad_cam"
    assert panel.explain()
    settle(panel.task)
    assert panel.result.method == "grad_cam"
    assert panel.per_class()
    settle(panel.class_task)
    assert panel.class_image.value[:4] == b"\x89PNG" and "per class" in panel.class_html.value


def test_tabular_runs_offer_tabular_methods_and_global_importance(tmp_path):
    studio = lnb.Studio(lnb.Recipe.preset("wine").updated({"train.epochs": 3}), out=None)
    studio.wait_data(HANG_S)
    assert studio.start() and studio.wait(HANG_S)
    panel = studio.interpret_panel
    methods = [v for _, v in panel.method.options]
    assert "feature_ablation" in methods and "grad_cam" not in methods
    panel.source.value = "probes"
    assert panel.explain()
    settle(panel.task)
    assert panel.image.value[:4] == b"\x89PNG"
    panel.per_class()
    settle(panel.class_task)
    assert "Global importance" in panel.class_html.value
    studio.close()


def test_text_runs_highlight_words(imdb_path):
    studio = lnb.Studio(lnb.Recipe.preset("sentiment").updated({"data.path": str(imdb_path), "train.epochs": 2}),
                        out=None)
    studio.wait_data(HANG_S)
    assert studio.start() and studio.wait(HANG_S)
    panel = studio.interpret_panel
    assert [v for _, v in panel.method.options] == ["layer_integrated_gradients"]
    panel.source.value = "indices"
    panel.indices.value = "1, 2"
    panel.explain()
    settle(panel.task)
    assert panel.html.value.count("<span title=") > 4
    assert len(studio.interpret_panel.timeline.probes[0]["words"]) > 0
    studio.close()


def test_nothing_to_explain_before_a_run():
    studio = lnb.Studio(tiny_recipe(), out=None)
    assert not studio.interpret_panel.explain() and "train a run first" in studio.interpret_panel.status.value
    studio.close()


def test_trust_checks_in_the_interpret_tab(studio):
    assert studio.start() and studio.wait(HANG_S)
    panel = studio.interpret_panel
    panel.source.value = "indices"
    panel.indices.value = "0, 1, 2"
    panel.method.value = "saliency"
    assert panel.check_trust()
    settle(panel.trust_task, timeout=HANG_S)
    assert panel.trust_report.n == 3 and panel.trust_report.method == "saliency"
    html = panel.trust_html.value
    assert "infidelity" in html and "max-sensitivity" in html and "model randomization" in html
    panel.indices.value = "x"
    assert not panel.check_trust() and "allowed" in panel.trust_html.value


def test_timeline_note_says_why_there_are_few_frames(digits_bundle):
    from lepton_nb.training.history import History
    from lepton_nb.ui.views.timeline import AttributionTimeline

    history = History()
    history.meta["probes"] = {"split": "val", "indices": [0, 1], "labels": [0, 1], "method": "integrated_gradients"}
    timeline = AttributionTimeline()
    captured(timeline)
    timeline.bind(history, digits_bundle)
    assert "probe samples" in timeline.note and "last epoch only" not in timeline.note
    history.meta["probe_note"] = "probes explained at the last epoch only: two probes do not fit"
    timeline.push()
    assert timeline.note.endswith("· probes explained at the last epoch only: two probes do not fit")
