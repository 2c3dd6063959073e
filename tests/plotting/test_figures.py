"""Figures read as what they show: folds are whole numbers, metrics have their readable names."""

from lepton_nb.plotting import new_figure, plot_cv


def test_cross_validation_folds_are_whole_numbers_on_the_axis():
    fig = new_figure(4.5, 2.4)
    ax = fig.subplots()
    plot_cv(ax, [{"balanced_accuracy": v} for v in (0.9, 0.92, 0.95)], "balanced_accuracy")
    fig.canvas.draw()
    assert list(ax.get_xticks()) == [1, 2, 3]  # never 0.5 … 3.5
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    assert ax.get_ylabel() == "balanced accuracy"
