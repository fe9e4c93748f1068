"""scripts/reproduce.py: one JSON per finished run, skipped when done, and the report."""

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import reproduce  # noqa: E402

from iarc_hf.experiments import EXPERIMENTS  # noqa: E402

REQUIRED = {
    "preset",
    "dataset_config",
    "seed",
    "max_steps",
    "optimizer",
    "params",
    "train_seconds",
    "metrics",
    "oracle",
}


def test_experiments_cover_the_paper():
    names = {e: {r.name for r in make()} for e, make in EXPERIMENTS.items()}
    assert {
        f"transformer-{a}_{c}" for a in ("dpa", "ea") for c in ("IARC", "IAR", "IA", "IR")
    } <= names["table1"]
    assert {"cisformer-ea_IARC", "cisformer-dpa_IARC", "mlp_IARC", "lstm_IARC"} <= names["fig1"]
    assert any("cog" in n for n in names["beyond"]) and any("adamw" in n for n in names["beyond"])


def test_runs_are_written_skipped_and_reported(tmp_path, capsys):
    args = ["run", "fig1", "--filter", "mlp_IARC", "--max_steps", "2", "--seeds", "0", "1",
            "--results_dir", str(tmp_path / "results"), "--runs_dir", str(tmp_path / "runs")]  # fmt: skip
    reproduce.main(args)
    files = sorted((tmp_path / "results" / "fig1").glob("*.json"))
    assert [f.name for f in files] == ["mlp_IARC_seed0_steps2.json", "mlp_IARC_seed1_steps2.json"]
    record = json.loads(files[0].read_text())
    assert REQUIRED <= set(record)
    assert record["scaled_down"] and record["max_steps"] == 2 and record["preset"] == "mlp"
    assert set(record["metrics"]) == set(record["oracle"]) and record["oracle"]["accuracy"] > 0.99
    capsys.readouterr()
    reproduce.main(args)  # resumable: nothing is trained twice
    assert capsys.readouterr().out.count("done already") == 2
    reproduce.main(["report", "--results_dir", str(tmp_path / "results")])
    readme = (tmp_path / "results" / "README.md").read_text()
    assert "| mlp | IARC | **scaled down: 2** | 2 |" in readme
    assert "#### fig1, side by side with the paper" in readme
    assert "| mlp | IARC | modest | not run | 2 steps: " in readme
    assert (tmp_path / "results" / "fig1_curves.png").exists()
    assert (tmp_path / "results" / "fig1_bars.png").exists()
    # the hand-written account around the tables survives a new report
    (tmp_path / "results" / "README.md").write_text(
        "# Mine\n\nkept\n" + readme[readme.index("<!--") :]
    )
    reproduce.main(["report", "--results_dir", str(tmp_path / "results")])
    assert "kept" in (tmp_path / "results" / "README.md").read_text()


def _reading_cases():
    from iarc_hf.configuration_iarc import READINGS

    return [(field, value) for field, values in READINGS.items() for value in values[1:]]


@pytest.mark.parametrize(("field", "value"), _reading_cases())
def test_the_readings_screen_covers_every_reading_on_every_ea_model(field, value):
    runs = EXPERIMENTS["readings"]()
    ea_models = {(r.preset, r.dataset_config) for r in runs if r.preset.endswith("-ea")}
    assert len(ea_models) == 3
    covered = {(r.preset, r.dataset_config) for r in runs if r.model == {field: value}}
    assert ea_models <= covered
    assert all(r.preset.endswith("-ea") for r in runs if "expressive_alibi" in r.model)
