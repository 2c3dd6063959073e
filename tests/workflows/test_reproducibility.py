"""A seeded run gives the same weights whatever else runs in the process, and never reseeds anyone else."""

import threading

import torch

import lepton_nb as lnb
from tests.conftest import tiny_recipe


def weights(run):
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def recipe():
    # dropout on, augmentation on, probes on: every source of randomness a run has
    return tiny_recipe(model__dropout=0.3, train__epochs=2)


def test_same_weights_alone_and_beside_other_work_that_draws_random_numbers():
    alone = weights(lnb.train(recipe(), progress=False, out=None))
    stop = threading.Event()

    def noisy_neighbour():  # user code in the kernel drawing from (and reseeding) the global RNG
        while not stop.is_set():
            torch.manual_seed(7)
            torch.rand(1000)
            torch.nn.functional.dropout(torch.ones(100), 0.5)

    finder = threading.Thread(target=lambda: lnb.lr_find(tiny_recipe(), steps=40))
    neighbour = threading.Thread(target=noisy_neighbour)
    finder.start()
    neighbour.start()
    try:
        beside = weights(lnb.train(recipe(), progress=False, out=None))
    finally:
        stop.set()
        neighbour.join()
        finder.join()
    assert same(alone, beside)


def test_two_seeded_runs_at_once_each_equal_their_run_alone():
    alone_a = weights(lnb.train(recipe(), progress=False, out=None))
    alone_b = weights(lnb.train(recipe().updated({"train.seed": 3}), progress=False, out=None))
    results = {}
    threads = [threading.Thread(target=lambda k=k, r=r: results.__setitem__(k, weights(
        lnb.train(r, progress=False, out=None)))) for k, r in (("a", recipe()), ("b", recipe().updated(
            {"train.seed": 3})))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert same(results["a"], alone_a) and same(results["b"], alone_b)
    assert not same(alone_a, alone_b)


def test_a_background_run_does_not_reseed_the_callers_random_stream():
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    worker = threading.Thread(target=lambda: lnb.train(recipe(), progress=False, out=None))
    worker.start()
    worker.join()
    assert torch.equal(torch.rand(5), expected)
