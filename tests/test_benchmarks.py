"""The training-step benchmark runs end to end and compares like with like (tiny batch)."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from iarc_hf.benchmarks import train_step
from iarc_hf.benchmarks.matmul_floor import record_matmuls, replay
from iarc_hf.benchmarks.naive import naive_for
from iarc_hf.benchmarks.train_step import (
    REFERENCE_PRESETS,
    bench_train_steps,
    format_table,
    interleaved_seconds,
    main,
    random_batch,
)
from iarc_hf.configuration_iarc import IARCConfig
from iarc_hf.modeling_iarc import IARCModel


@pytest.mark.parametrize("preset", REFERENCE_PRESETS)
def test_naive_reference_has_the_preset_parameter_count(preset):
    config = IARCConfig.from_preset(preset)
    naive = sum(p.numel() for p in naive_for(config).parameters())
    assert naive == IARCModel(config).num_parameters()


def naive_weights_from(model: IARCModel) -> dict:
    """Our parameters under the naive reference's names (Q, K, V split; position-wise biases
    and gains without their broadcast axis)."""
    config, state = model.config, {}
    d = config.hidden_size
    for i, layer in enumerate(model.stack.layers):
        attn, ffn = layer.attn, layer.ffn
        if config.position_wise:
            for name, j in {"wq": 0, "wk": 1, "wv": 2}.items():
                state[f"blocks.{i}.{name}"] = attn.qkv.weight[..., j * d : (j + 1) * d]
                state[f"blocks.{i}.b{name[1]}"] = attn.qkv.bias[:, 0, j * d : (j + 1) * d]
            pairs = {"wo": attn.out, "w1": ffn.up, "w2": ffn.down}
            for name, linear in pairs.items():
                state[f"blocks.{i}.{name}"] = linear.weight
                state[f"blocks.{i}.b{name[1]}"] = linear.bias[:, 0]
            state[f"blocks.{i}.g1"] = layer.attn_norm.weight[:, 0]
            state[f"blocks.{i}.g2"] = layer.ffn_norm.weight[:, 0]
        else:
            for name, j in {"q": 0, "k": 1, "v": 2}.items():
                state[f"blocks.{i}.{name}.weight"] = attn.qkv.weight[j * d : (j + 1) * d]
                state[f"blocks.{i}.{name}.bias"] = attn.qkv.bias[j * d : (j + 1) * d]
            for name, linear in {"o": attn.out, "ff1": ffn.up, "ff2": ffn.down}.items():
                state[f"blocks.{i}.{name}.weight"] = linear.weight
                state[f"blocks.{i}.{name}.bias"] = linear.bias
            state[f"blocks.{i}.norm1.weight"] = layer.attn_norm.weight
            state[f"blocks.{i}.norm2.weight"] = layer.ffn_norm.weight
    state["norm.weight"] = model.final_norm.weight
    state["head.weight"], state["head.bias"] = model.head.weight, model.head.bias
    return state


def naive_weights_from_grads(model: IARCModel) -> dict:
    """The same mapping applied to the gradients."""
    shadow = IARCModel(model.config).double()
    with torch.no_grad():
        for s, p in zip(shadow.parameters(), model.parameters(), strict=True):
            s.copy_(p.grad)
    return naive_weights_from(shadow)


@pytest.mark.parametrize("preset", REFERENCE_PRESETS)
def test_naive_reference_computes_the_same_loss_and_gradients(preset):
    """The benchmark compares like with like: with our weights the naive model is our model."""
    torch.manual_seed(0)
    config = IARCConfig.from_preset(preset, num_hidden_layers=3)
    model = IARCModel(config).double()
    for p in model.parameters():  # away from the zero/one init, so every term matters
        p.data.add_(0.1 * torch.randn_like(p))
    naive = naive_for(config).double()
    naive.load_state_dict({k: v.detach().clone() for k, v in naive_weights_from(model).items()})
    batch = random_batch(config, 5, "cpu")
    ours, theirs = model(**batch).loss, naive(**batch)  # our loss is float32 by design
    torch.testing.assert_close(ours.double(), theirs, rtol=1e-6, atol=0)
    ours.backward()
    theirs.backward()
    ours_grads = naive_weights_from_grads(model)
    assert ours_grads.keys() == dict(naive.named_parameters()).keys()
    # float32 loss: agreement to 1e-4 of the gradients' scale (the key bias's is exactly 0
    # in softmax attention, so the scale is the largest gradient of all)
    scale = max(p.grad.abs().max().item() for p in naive.parameters())
    for name, p in naive.named_parameters():
        torch.testing.assert_close(ours_grads[name], p.grad, rtol=0, atol=1e-4 * scale, msg=name)


def test_interleaved_timing_times_every_function_each_round(monkeypatch):
    """A fake clock that each call advances by its own duration: the warm-up call is not
    timed, the calls alternate round by round, and each function gets its median."""
    now, calls = [0.0], []
    durations = {"a": iter([50.0, 1.0, 9.0, 2.0]), "b": iter([50.0, 4.0, 4.0, 100.0])}

    def call(name):
        calls.append(name)
        now[0] += next(durations[name])

    monkeypatch.setattr(train_step.time, "perf_counter", lambda: now[0])
    seconds = interleaved_seconds([lambda: call("a"), lambda: call("b")], rounds=3, warmup=1)
    assert calls == ["a", "b"] + ["a", "b"] * 3
    assert seconds == [2.0, 4.0]


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
    floor = by[("cisformer-dpa", "matmul floor")]
    assert floor["gflop_per_step"] == pytest.approx(ours["gflop_per_step"], rel=1e-9)
    assert "tokens/s" in format_table(rows)


@pytest.mark.integration
def test_main_with_x_transformers(capsys):
    """x-transformers comes with [dev] (the [bench] extra): its row must be in the table."""
    main(["--presets", "transformer-dpa", "--batch_size", "2", "--steps", "1"])
    out = capsys.readouterr().out
    assert "transformer-dpa" in out and "x-transformers" in out
    assert "not installed" not in out


def test_matmul_floor_replays_exactly_the_step_products():
    a, b = torch.randn(6, 4), torch.randn(4, 3)
    x, y = torch.randn(2, 5, 4), torch.randn(2, 4, 3)
    out = torch.empty(2, 5, 3)

    def step():
        torch.relu(a @ b)  # not a product: not replayed
        torch.addmm(torch.zeros(3), a, b, beta=0.5)
        torch.bmm(x, y.transpose(1, 2).transpose(1, 2), out=out)
        torch.baddbmm(out, x, y)

    calls = record_matmuls(step)
    names = [str(func) for func, *_ in calls]
    assert names == [
        "aten.mm.default",
        "aten.addmm.default",
        "aten.bmm.out",
        "aten.baddbmm.default",
    ]
    assert calls[1][2] == {"beta": 0.5}
    with FlopCounterMode(display=False) as original:
        step()
    with FlopCounterMode(display=False) as replayed:
        replay(calls, "cpu")()
    assert replayed.get_total_flops() == original.get_total_flops() > 0
