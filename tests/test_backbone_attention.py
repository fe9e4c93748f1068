"""Our attention weights inside `transformers` backbones (`IARCBackboneConfig.attention`):
"dpa" reproduces the backbone's own softmax by our code path, "expressive" and "cog" are the
weight functions of IARCConfig on the backbone's own q, k, v (checked by hand), every such
backbone stays causal, learns and reloads without the package, and a backbone without
attention layers refuses the option by name."""

import pytest
import torch
from model_cases import assert_overfits
from safetensors.torch import load_file, save_file
from test_backbones import TASK, inputs, preset_config
from test_modeling import load_without_package

from iarc_hf.configuration_iarc_backbone import BACKBONE_ATTENTIONS, IARCBackboneConfig
from iarc_hf.modeling_iarc import WEIGHT_FUNCTIONS
from iarc_hf.modeling_iarc_backbone import (
    IARCBackboneModel,
    dispatches_attention,
    iarc_attention,
)
from iarc_hf.training.backbones import BACKBONE_PRESETS, preset_backbone

OURS = BACKBONE_ATTENTIONS[1:]  # every attention but the backbone's own


def config(name: str, attention: str = "native") -> IARCBackboneConfig:
    """A preset with 2 layers, unless its block pattern puts attention later (recurrent_gemma)."""
    shrink = "block_types" not in preset_backbone(name)[1]
    return preset_config(name, shrink=shrink, attention=attention)


WITH_ATTENTION = [
    name
    for name in BACKBONE_PRESETS
    if dispatches_attention(IARCBackboneModel(config(name)).backbone)
]
WITHOUT_ATTENTION = [name for name in BACKBONE_PRESETS if name not in WITH_ATTENTION]


def test_the_presets_split_into_attention_and_attention_free():
    # the leaderboard's decoders carry attention; its state-space and recurrent types do not
    assert {"llama-small", "qwen3-large", "gpt2-small", "lfm2-large"} <= set(WITH_ATTENTION)
    assert {"mamba2-small", "rwkv-small", "xlstm-small"} <= set(WITHOUT_ATTENTION)


def logits(name: str, attention: str, seed: int = 0) -> torch.Tensor:
    torch.manual_seed(seed)
    model = IARCBackboneModel(config(name, attention)).eval()
    with torch.no_grad():
        return model(**inputs(3, 1)).logits


@pytest.mark.parametrize("name", WITH_ATTENTION)
def test_dpa_by_our_path_equals_the_backbones_own_attention(name):
    torch.testing.assert_close(logits(name, "dpa"), logits(name, "native"), atol=2e-5, rtol=0)


@pytest.mark.parametrize("attention", ["expressive", "cog"])
@pytest.mark.parametrize("name", WITH_ATTENTION)
def test_other_weights_change_the_backbone(name, attention):
    assert not torch.allclose(logits(name, attention), logits(name, "native"), atol=1e-3)


@pytest.mark.parametrize("attention", OURS)
@pytest.mark.parametrize("mask", ["none", "bool", "float"])
@pytest.mark.parametrize("kv_heads", [4, 2])
def test_weights_are_iarcs_on_the_backbones_q_and_k(attention, mask, kv_heads):
    """By hand: z = q.k * scaling per head (keys and values shared by groups of query heads),
    the causal mask as eager's float, a boolean or none, then WEIGHT_FUNCTIONS[attention]."""
    g = torch.Generator().manual_seed(5)
    b, h, t, d = 2, 4, 6, 8
    q = torch.randn(b, h, t, d, generator=g)
    k, v = torch.randn(2, b, kv_heads, t, d, generator=g)
    causal = torch.ones(t, t, dtype=torch.bool).tril().expand(b, 1, t, t)
    given = {
        "none": None,
        "bool": causal,
        "float": torch.zeros(b, 1, t, t).masked_fill(~causal, torch.finfo(torch.float32).min),
    }[mask]
    module = torch.nn.Module().eval()
    out, w = iarc_attention(attention)(module, q, k, v, given, scaling=0.3)
    kk, vv = (x.repeat_interleave(h // kv_heads, dim=1) for x in (k, v))
    bias = torch.zeros(t, t).masked_fill(~causal[0, 0], float("-inf"))
    want = WEIGHT_FUNCTIONS[attention](q @ kk.transpose(2, 3) * 0.3, bias, 1e-6)
    torch.testing.assert_close(w, want, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(out, (want @ vv).transpose(1, 2), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("attention", ["expressive", "cog"])
@pytest.mark.parametrize("name", WITH_ATTENTION)
def test_causal_under_our_weights(name, attention):
    model = IARCBackboneModel(config(name, attention)).eval()
    batch = inputs(3, 1)
    with torch.no_grad():
        before = model(**batch).logits
        changed = {k: v.clone() for k, v in batch.items()}
        changed["input_ids"][:, 12:] = (changed["input_ids"][:, 12:] + 1) % TASK.n_symbols
        after = model(**changed).logits
    torch.testing.assert_close(after[:, :12], before[:, :12], atol=1e-5, rtol=0)
    assert not torch.allclose(after[:, 12], before[:, 12])


@pytest.mark.parametrize("name", ["llama-small", "qwen3-small"])
def test_expressive_backbone_overfits_a_tiny_batch(name):
    torch.manual_seed(0)
    model = IARCBackboneModel(config(name, "expressive")).train()
    batch = inputs(8, 2)
    batch["input_ids"][:, 0] = torch.arange(8)
    labels = torch.randint(0, TASK.n_symbols, (8, 24), generator=torch.Generator().manual_seed(3))
    assert_overfits(model, batch, labels)


@pytest.mark.parametrize("attention", OURS)
@pytest.mark.parametrize("name", WITHOUT_ATTENTION)
def test_a_backbone_without_attention_refuses_by_name(name, attention):
    with pytest.raises(ValueError, match=rf"attention='{attention}'.*attention='native'"):
        IARCBackboneModel(config(name, attention))


def test_an_unknown_attention_names_the_field_and_the_choices():
    with pytest.raises(ValueError, match=r"attention='softmax'.*'native', 'dpa'"):
        IARCBackboneConfig(backbone={"model_type": "llama"}, attention="softmax").check()


@pytest.mark.integration  # a second Python process loads the checkpoints
def test_reloads_without_iarc_hf_with_our_attention(tmp_path):
    """The weight functions travel in the remote code: a checkpoint with expressive or cog
    attention gives the same logits in a Python where iarc_hf cannot be imported."""
    expected = {}
    for attention in ("expressive", "cog"):
        torch.manual_seed(0)
        model = IARCBackboneModel(config("qwen3-small", attention)).eval()
        batch = inputs(2, 4)
        with torch.no_grad():
            expected[attention] = model(**batch).logits
        model.save_pretrained(tmp_path / attention)
        save_file(batch, tmp_path / f"{attention}.inputs.safetensors")
    load_without_package(tmp_path, threads=torch.get_num_threads())
    for attention, want in expected.items():
        loaded = load_file(tmp_path / f"{attention}.loaded.safetensors")["logits"]
        torch.testing.assert_close(loaded, want, rtol=1e-5, atol=1e-5)
