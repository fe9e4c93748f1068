"""The training-step benchmark runs end to end and compares like with like (tiny batch)."""

import pytest

from iarc_hf.benchmarks.naive import naive_for
from iarc_hf.benchmarks.train_step import REFERENCE_PRESETS, bench_train_steps, format_table, main
from iarc_hf.configuration_iarc import IARCConfig
from iarc_hf.modeling_iarc import IARCModel


@pytest.mark.parametrize("preset", REFERENCE_PRESETS)
def test_naive_reference_has_the_preset_parameter_count(preset):
    config = IARCConfig.from_preset(preset)
    naive = sum(p.numel() for p in naive_for(config).parameters())
    assert naive == IARCModel(config).num_parameters()


def test_bench_rows_for_ours_references_and_matmul():
    rows = bench_train_steps(["cisformer-dpa", "lstm"], batch_size=2, steps=1)
    by = {(r["model"], r["implementation"]): r for r in rows}
    assert ("cisformer-dpa", "iarc") in by and ("cisformer-dpa", "naive eager") in by
    assert ("lstm", "iarc") in by
    assert any(r["implementation"] == "torch.matmul" for r in rows)
    for r in rows:
        assert r["ms_per_step"] > 0 and r["gflop_per_step"] > 0
    ours, naive = by[("cisformer-dpa", "iarc")], by[("cisformer-dpa", "naive eager")]
    assert ours["gflop_per_step"] == pytest.approx(naive["gflop_per_step"], rel=0.05)  # same work
    assert "tokens/s" in format_table(rows)


@pytest.mark.slow
def test_main_with_x_transformers(capsys):
    main(["--presets", "transformer-dpa", "--batch_size", "2", "--steps", "1"])
    assert "transformer-dpa" in capsys.readouterr().out
