"""The CUDA path: every preset and leaderboard architecture trains on the GPU, resumes bit-exactly,
matches the CPU's logits; bf16 autocast; the fused attention against its reference; packed
runs (eager and as a CUDA graph) against runs alone. Marked `cuda`: skipped without a GPU
(`pytest -m cuda` on a GPU machine runs them)."""

import pytest
import torch
from model_cases import small_config
from safetensors.torch import load_file
from test_attention_core import NAMES, fused, reference
from test_backbones import inputs, preset_config

from iarc_hf.configuration_iarc import PRESETS
from iarc_hf.modeling_iarc import IARCModel, alibi_slopes, attention_bias
from iarc_hf.modeling_iarc_backbone import IARCBackboneModel
from iarc_hf.training.arguments import DataArguments, ModelArguments, RunArguments
from iarc_hf.training.backbones import BACKBONE_PRESETS
from iarc_hf.training.loop import train
from iarc_hf.training.packed_loop import train_pack

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]
SGD = dict(optimizer="sgd", learning_rate=0.02, momentum=0.8, lr_scheduler_type="constant")


def arguments(out, preset="cisformer-dpa", seed=0, steps=6, layers=2, **run):
    overrides = {} if preset in BACKBONE_PRESETS else {"num_hidden_layers": layers}
    return (
        ModelArguments(preset=preset, **overrides),
        DataArguments(dataset_config="IARC", eval_size=200, test_size=200),
        RunArguments(
            output_dir=str(out),
            max_steps=steps,
            seed=seed,
            eval_steps=3,
            save_steps=3,
            logging_steps=1,
            per_device_train_batch_size=32,
            **{**SGD, **run},
        ),
    )


def weights(folder) -> dict:
    return load_file(str(folder / "model.safetensors"))


@pytest.mark.parametrize("preset", [*PRESETS, *BACKBONE_PRESETS])
def test_trains_on_cuda_and_resumes_bit_exactly(tmp_path, preset):
    straight = train(*arguments(tmp_path / "a", preset), command="test", show_progress=False)
    assert straight["accuracy"] >= 0
    args = arguments(tmp_path / "b", preset)
    train(*args, command="test", stop_after=3, show_progress=False)
    args[2].resume_from_checkpoint = "latest"
    train(*args, command="test", show_progress=False)
    first, second = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(first[name], second[name]) for name in first)


def _model_pair(preset: str):
    if preset in BACKBONE_PRESETS:
        config = preset_config(preset, shrink=True)
        return config, IARCBackboneModel
    return small_config(preset), IARCModel


@pytest.fixture
def full_float32():
    """cuDNN (the LSTM's path) rounds float32 through TF32 by default: compare in full float32."""
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("preset", [*PRESETS, *BACKBONE_PRESETS])
def test_cuda_logits_match_the_cpu(preset, full_float32):
    config, cls = _model_pair(preset)
    torch.manual_seed(0)
    model = cls(config).eval()
    batch = inputs(8, seed=1)
    with torch.no_grad():
        on_cpu = model(**batch).logits
        model.cuda()
        on_gpu = model(**{k: v.cuda() for k, v in batch.items()}).logits.cpu()
    torch.testing.assert_close(on_gpu, on_cpu, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_bf16_autocast_keeps_the_predictions(preset):
    torch.manual_seed(0)
    model = IARCModel(small_config(preset)).cuda().eval()
    batch = {k: v.cuda() for k, v in inputs(64, seed=2).items()}
    with torch.no_grad():
        full = model(**batch).logits
        with torch.autocast("cuda", dtype=torch.bfloat16):
            half = model(**batch).logits.float()
    assert torch.isfinite(half).all()
    agree = (full.argmax(-1) == half.argmax(-1)).float().mean().item()
    assert agree >= 0.95, f"bf16 changes {1 - agree:.1%} of the predictions"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("score_scale", [None, 1.0])
def test_fused_attention_matches_reference_on_cuda(name, score_scale):
    g = torch.Generator().manual_seed(3)
    heads, length, batch, d_head = 4, 24, 3, 5
    qkv = torch.randn(length, batch, 3 * heads * d_head, generator=g, dtype=torch.float64)
    bias = attention_bias(alibi_slopes(heads).double(), length)
    upstream = torch.randn(length, batch, heads * d_head, generator=g, dtype=torch.float64)
    results = []
    for attend in (reference, fused):
        x = qkv.cuda().requires_grad_()
        y, w = attend(x, bias.cuda(), name, heads, 1e-6, score_scale)
        (grad,) = torch.autograd.grad(y, x, upstream.cuda())
        results.append((y, w, grad))
    for expected, actual in zip(results[0], results[1], strict=True):
        torch.testing.assert_close(actual, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("preset", ["cisformer-dpa", "transformer-dpa"])
def test_a_pack_on_cuda_equals_its_runs_alone(tmp_path, preset):
    """SGD with a constant rate: the pack's step is one CUDA graph (after 3 eager steps)."""
    alone = [arguments(tmp_path / f"alone{s}", preset, seed=s) for s in (0, 1)]
    for args in alone:
        train(*args, command="test", show_progress=False)
    packed = [arguments(tmp_path / f"pack{s}", preset, seed=s) for s in (0, 1)]
    train_pack(packed, ["test", "test"], device="cuda", show_progress=False)
    for s in (0, 1):
        first, second = weights(tmp_path / f"alone{s}"), weights(tmp_path / f"pack{s}")
        for name in first:
            torch.testing.assert_close(second[name], first[name], rtol=1e-4, atol=1e-5)


def test_a_packed_cuda_graph_equals_the_eager_pack_on_the_cpu(tmp_path):
    """The same pack as one CUDA graph and eager on the CPU: the same weights."""
    for device in ("cuda", "cpu"):
        packed = [arguments(tmp_path / f"{device}{s}", seed=s) for s in (0, 1)]
        train_pack(packed, ["test"] * 2, device=device, show_progress=False)
    for s in (0, 1):
        first, second = weights(tmp_path / f"cpu{s}"), weights(tmp_path / f"cuda{s}")
        for name in first:
            torch.testing.assert_close(second[name], first[name], rtol=1e-4, atol=1e-5)
