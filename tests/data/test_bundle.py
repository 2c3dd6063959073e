import torch

import lepton_nb as lnb
from tests.conftest import tiny_recipe


def test_each_epoch_visits_every_train_sample_once(digits_bundle):
    batches = digits_bundle.batches("train", 50, train=True, seed=3)
    seen = torch.cat([y for _, y in batches])
    assert len(seen) == len(digits_bundle.train)
    assert torch.equal(seen.sort().values, digits_bundle.train.y.sort().values)


def test_shuffle_and_augmentation_are_seeded_per_epoch(digits_bundle):
    def first_batch(seed, epoch):
        b = digits_bundle.batches("train", 32, train=True, seed=seed)
        b.set_epoch(epoch)
        return next(iter(b))[0]

    assert torch.equal(first_batch(1, 0), first_batch(1, 0))
    assert not torch.equal(first_batch(1, 0), first_batch(1, 1))
    assert not torch.equal(first_batch(1, 0), first_batch(2, 0))


def test_eval_batches_are_ordered_normalized_and_unaugmented(digits_bundle):
    xs = torch.cat([x for x, _ in digits_bundle.batches("val", 40)])
    assert torch.equal(xs, digits_bundle.inputs("val"))
    raw = digits_bundle.raw("val", slice(None))
    assert torch.allclose(digits_bundle.norm.invert(xs), raw, atol=1e-5)


def test_no_augmentation_means_prepared_once_and_sliced():
    b = lnb.build_data(tiny_recipe(augment__ops=[]))
    batches = b.batches("train", 64, train=True)
    assert batches.augment is None
    x, _ = next(iter(batches))
    assert x.dtype == torch.float32 and abs(float(b.inputs("train").mean())) < 1e-4


def test_spec_describes_the_data(digits_bundle):
    spec = digits_bundle.spec()
    assert spec.kind == "image" and spec.input_shape == [1, 8, 8] and spec.num_classes == 10
    assert lnb.data.DataSpec.from_dict(spec.to_dict()) == spec


def test_kfold_refits_statistics_per_fold():
    folds = list(lnb.data.kfold_bundles(tiny_recipe(), 3))
    assert len(folds) == 3
    means = {round(b.norm.mean[0], 8) for _, b in folds}
    assert len(means) == 3
    held = [set(b.test.y.tolist()) for _, b in folds]
    assert all(len(h) == 10 for h in held)  # stratified
    total = sum(len(b.test) for _, b in folds)
    assert total == len(folds[0][1].train) + len(folds[0][1].test)


def test_a_trailing_single_sample_batch_is_dropped_in_training_only():
    b = lnb.build_data(tiny_recipe())  # 420 training samples
    train = b.batches("train", 419, train=True)
    assert len(train) == 1 and [len(y) for _, y in train] == [419]
    assert [len(y) for _, y in b.batches("train", 419)] == [419, 1]  # evaluation keeps every sample
    run = lnb.train(tiny_recipe(train__batch_size=419, train__epochs=1, model__arch="mlp"), progress=False,
                    out=None)
    assert run.status == "completed"  # BatchNorm1d would fail on a batch of one
