"""`ProbeSchedule` on made-up seconds: the budget bound its docstring states, and the shape of the timeline."""

from hypothesis import given, settings
from hypothesis import strategies as st

from lepton_nb.interpret.schedule import ProbeSchedule

seconds = st.floats(0.001, 10.0, allow_nan=False, allow_infinity=False)


def simulate(schedule: ProbeSchedule, epoch_seconds: list[float], probe_seconds: list[float]) -> ProbeSchedule:
    """Run the schedule over a whole training: the i-th probe taken costs probe_seconds[i % len]."""
    for epoch, d in enumerate(epoch_seconds):
        if schedule.due(epoch, d):
            schedule.record(epoch, probe_seconds[len(schedule.frames) % len(probe_seconds)])
    return schedule


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 40), st.floats(0.001, 1.0), st.floats(0.0, 2.0))
def test_any_durations_and_costs_keep_the_stated_bound(data, epochs, budget, prior):
    durations = data.draw(st.lists(seconds, min_size=epochs, max_size=epochs))
    costs = data.draw(st.lists(st.floats(0.0, 5.0), min_size=1, max_size=epochs))
    s = simulate(ProbeSchedule(epochs, budget, prior=prior), durations, costs)
    trained = sum(durations)
    assert s.frames[-1] == epochs - 1  # the trained model's frame, always
    assert all(a < b for a, b in zip(s.frames, s.frames[1:]))
    assert s.spent <= budget * max(trained, s.projected_max) + 2 * s.overrun + 1e-9 or s.frames == [epochs - 1]
    assert (s.note != "") <= (s.frames == [epochs - 1])  # a note only explains a timeline of one frame


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 40), st.floats(0.001, 1.0), st.floats(0.0001, 1.0))
def test_exact_costs_and_epochs_no_faster_than_before_stay_within_budget(data, epochs, budget, cost):
    durations = sorted(data.draw(st.lists(seconds, min_size=epochs, max_size=epochs)))
    s = simulate(ProbeSchedule(epochs, budget, costs=[cost]), durations, [cost])
    assert s.overrun == 0 and s.projected_max <= sum(durations) + 1e-9
    assert s.spent <= budget * sum(durations) + 1e-9 or s.frames == [epochs - 1]
    if s.frames == [epochs - 1] and epochs > 1 and 2 * cost > budget * sum(durations):
        assert "last epoch only" in s.note


@given(st.integers(1, 60), st.integers(1, 12))
def test_every_n_epochs_ignores_the_budget(epochs, n):
    s = simulate(ProbeSchedule(epochs, 0.001, every_n=n, prior=100.0), [1.0] * epochs, [50.0])
    assert s.frames == sorted({e for e in range(epochs) if (e + 1) % n == 0} | {epochs - 1})


def test_a_default_run_is_dense_first_then_spaced():
    # the default recipe on this machine: 12 epochs of about 0.14 s, a probe 5-8 % of an epoch
    durations = [0.3] + [0.14] * 11
    spaced = simulate(ProbeSchedule(12, 0.05, prior=0.05), durations, [0.011])
    assert spaced.frames == [0, 1, 2, 3, 4, 6, 8, 11] and spaced.spent <= 0.05 * sum(durations)
    assert simulate(ProbeSchedule(12, 0.05, prior=0.05), durations, [0.007]).frames == list(range(12))


def test_an_ample_budget_explains_every_epoch():
    assert simulate(ProbeSchedule(10, 0.5, prior=0.05), [1.0] * 10, [0.01]).frames == list(range(10))


def test_a_slow_first_epoch_does_not_inflate_the_projection():
    s = ProbeSchedule(10, 0.05, prior=0.05)
    s.due(0, 5.0)
    s.record(0, 0.01)
    s.due(1, 0.1)
    assert s.projected(1) == 5.1 + 8 * 0.1


def test_short_run_where_two_probes_do_not_fit_takes_the_last_only_and_says_so():
    s = simulate(ProbeSchedule(3, 0.05, prior=0.1), [0.14] * 3, [0.014])
    assert s.frames == [2]
    assert s.note.startswith("probes explained at the last epoch only") and "interpret.budget" in s.note
    assert s.spent <= 0.05 * 3 * 0.14  # one probe fits, two do not


def test_short_run_with_cheap_probes_gets_several_frames():
    s = simulate(ProbeSchedule(3, 0.05, prior=0.03), [0.14] * 3, [0.004])
    assert s.frames == [0, 1, 2] and s.note == "" and s.spent <= 0.05 * 3 * 0.14


def test_one_slow_probe_spends_its_seconds_but_does_not_raise_the_estimate():
    s = simulate(ProbeSchedule(12, 0.1, costs=[0.009]), [0.14] * 12, [0.009, 0.05, 0.009, 0.009, 0.009])
    assert set(s.estimates) == {0.009} and len(s.frames) >= 8
    assert s.spent <= 0.1 * 12 * 0.14 + 2 * s.overrun
