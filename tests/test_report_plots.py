"""The report's plots stay readable however many runs an experiment has: names that tell runs
apart, a panel per preset and budget past MAX_CURVES_PER_PLOT curves, bars a row each."""

import pytest

from iarc_hf.experiments import report_plots
from iarc_hf.experiments.report_plots import MAX_CURVES_PER_PLOT, plot_bars, plot_curves, run_names


def record(preset="cisformer-dpa", label="", config="IARC", lr=0.01, seed=0):
    name = f"{preset}_{config}_{label}_lr{lr}"
    return {
        "experiment": "x",
        "name": name,
        "preset": preset,
        "label": label,
        "dataset_config": config,
        "learning_rate": lr,
        "batch_size": 200,
        "seed": seed,
        "curve": [{"windows": w, "accuracy": 0.5 + w / 1e6} for w in (100, 200, 300)],
        "metrics": {"accuracy": 0.9},
    }


def groups_of(*records, seeds=1):
    """The report's groups: (experiment, run name, steps) -> the seeds' records."""
    return {("x", r["name"], 2000): [dict(r, seed=s) for s in range(seeds)] for r in records}


def test_names_add_the_rate_only_where_two_runs_would_share_a_name():
    chosen = sorted(groups_of(record(lr=0.01), record(lr=0.003), record(preset="lstm")).items())
    assert run_names(chosen) == [
        "cisformer-dpa IARC, lr 0.003",
        "cisformer-dpa IARC, lr 0.01",
        "lstm IARC",
    ]


def test_runs_that_differ_in_budget_alone_keep_their_plain_name():
    chosen = sorted({("x", "a", 2000): [record()], ("x", "a", 8000): [record()]}.items())
    assert run_names(chosen) == ["cisformer-dpa IARC", "cisformer-dpa IARC"]


def test_a_panel_whose_runs_share_label_and_config_names_only_what_differs():
    chosen = sorted(groups_of(record(lr=0.01), record(lr=0.003)).items())
    assert run_names(chosen, with_preset=False) == ["lr 0.003", "lr 0.01"]


@pytest.fixture
def figures(monkeypatch):
    """The figures the plots would save, kept open to look at."""
    saved = []
    monkeypatch.setattr(report_plots, "save_figure", lambda fig, png: saved.append(fig) or png)
    yield saved
    for fig in saved:
        report_plots.plt.close(fig)


@pytest.mark.parametrize("runs", [3, MAX_CURVES_PER_PLOT, MAX_CURVES_PER_PLOT + 1, 40])
def test_many_curves_become_a_panel_per_preset(figures, tmp_path, runs):
    presets = ("cisformer-dpa", "cisformer-ea", "lstm")
    records = [record(preset=presets[i % 3], lr=0.001 * (i + 1)) for i in range(runs)]
    assert plot_curves(groups_of(*records), "x", tmp_path / "c.png") == tmp_path / "c.png"
    plotted = [ax for ax in figures[0].axes if ax.get_lines()]
    if runs <= MAX_CURVES_PER_PLOT:
        assert len(plotted) == 1
        assert len(plotted[0].get_lines()) == runs + 1  # and the oracle's 1.0 line
    else:
        assert sorted(ax.get_title() for ax in plotted) == [
            f"{p} (scaled down: 2000 steps)" for p in presets
        ]
        assert sum(len(ax.get_lines()) - 1 for ax in plotted) == runs
        # every curve of a panel looks different: colour or line style
        for ax in plotted:
            looks = [(line.get_color(), line.get_linestyle()) for line in ax.get_lines()[:-1]]
            assert len(set(looks)) == len(looks)


@pytest.mark.parametrize("runs", [2, 60])
def test_bars_grow_in_height_not_width(figures, tmp_path, runs):
    records = [record(lr=0.001 * (i + 1)) for i in range(runs)]
    plot_bars(groups_of(*records, seeds=2), "x", tmp_path / "b.png")
    ax = figures[0].axes[0]
    width, height = figures[0].get_size_inches()
    assert len(ax.patches) == runs and width < 12
    assert height > 0.2 * runs
    assert [t.get_text() for t in ax.get_yticklabels()][0].startswith("cisformer-dpa IARC, lr")
