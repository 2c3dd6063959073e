import lepton_nb as lnb
from lepton_nb.ui.views.attention import AttentionExplorer
from tests.conftest import write_sentiment
from tests.ui.conftest import settle
from tests.workflows.test_transformers import text_recipe


def test_attention_explorer_shows_a_head_and_the_rollout_of_a_typed_sentence(tmp_path):
    run = lnb.train(text_recipe(write_sentiment(tmp_path / "r.tsv", n=80), **{"train.epochs": 1,
                                                                              "model.depth": 2}),
                    out=None, progress=False)
    explorer = AttentionExplorer()
    assert explorer.box.layout.display == "none"
    explorer.show_run(run)
    assert explorer.box.layout.display == "" and explorer.sentence.value == run.data.test.texts[0]
    explorer.sentence.value = "a great and wonderful film"
    assert explorer.show()
    settle(explorer.task)
    assert list(explorer.layer.options) == [0, 1] and list(explorer.head.options) == [0, 1]
    assert explorer.image.value[:4] == b"\x89PNG" and "prediction" in explorer.status.value
    first = explorer.image.value
    explorer.head.value = 1
    assert explorer.image.value != first
    cnn = lnb.train(text_recipe(write_sentiment(tmp_path / "r.tsv", n=80), **{"train.epochs": 1,
                                                                               "model.arch": "text_cnn"}),
                    out=None, progress=False)
    explorer.show_run(cnn)
    assert explorer.box.layout.display == "none" and not explorer.show()
