import pytest
import torch

import lepton_nb as lnb
from lepton_nb.data import DataSpec
from lepton_nb.models import build_model, count_parameters, summarize
from lepton_nb.recipe import ModelSection

CASES = [
    ("cnn", DataSpec("image", [1, 28, 28], 10, [str(i) for i in range(10)])),
    ("cnn", DataSpec("image", [1, 8, 8], 10, [str(i) for i in range(10)])),
    ("resnet", DataSpec("image", [3, 32, 32], 10, [str(i) for i in range(10)])),
    ("mlp", DataSpec("image", [1, 8, 8], 10, [str(i) for i in range(10)])),
    ("tabular_mlp", DataSpec("tabular", [30], 2, ["a", "b"])),
    ("text_cnn", DataSpec("text", [40], 2, ["0", "1"], vocab_size=500)),
    ("text_bilstm", DataSpec("text", [40], 3, ["0", "1", "2"], vocab_size=500)),
]


@pytest.mark.parametrize("arch,spec", CASES)
def test_every_arch_maps_inputs_to_class_logits(arch, spec):
    model = build_model(ModelSection(arch=arch, width=8, hidden=16, embed_dim=8), spec, seed=0)
    if spec.kind == "text":
        x = torch.randint(0, spec.vocab_size, (4, *spec.input_shape))
        x[:, 30:] = 0
    else:
        x = torch.randn(4, *spec.input_shape)
    out = model(x)
    assert out.shape == (4, spec.num_classes)
    assert count_parameters(model) > 0
    rows = summarize(model, spec.input_shape, torch.long if spec.kind == "text" else torch.float32)
    assert sum(r.params for r in rows) == count_parameters(model)
    assert hasattr(model, "features") and hasattr(model, "head")


def test_seed_makes_weights_reproducible():
    spec = CASES[0][1]
    a = build_model(ModelSection(), spec, seed=1).state_dict()
    b = build_model(ModelSection(), spec, seed=1).state_dict()
    c = build_model(ModelSection(), spec, seed=2).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_width_and_depth_change_the_size():
    spec = CASES[0][1]
    small = count_parameters(build_model(ModelSection(width=8), spec))
    big = count_parameters(build_model(ModelSection(width=32), spec))
    deep = count_parameters(build_model(ModelSection(width=8, depth=3), spec))
    assert small < big and small != deep


def test_arch_that_does_not_fit_the_data_is_a_clear_error():
    with pytest.raises(lnb.ModelError, match="not for tabular data; allowed: tabular_mlp, mlp"):
        build_model(ModelSection(arch="cnn"), CASES[4][1])
