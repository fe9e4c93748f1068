"""transformers backbones on IARC: every preset is causal, learns, reloads without the package,
has the size its track says (counted by hand), and its labels are never shifted twice."""

import json

import pytest
import torch
import torch.nn.functional as F
from model_cases import assert_overfits
from safetensors.torch import load_file, save_file
from test_modeling import load_without_package

from iarc_hf.data.tasks import IARCTask
from iarc_hf.modeling_iarc_backbone import IARCBackboneModel
from iarc_hf.training.backbones import (
    BACKBONE_PRESETS,
    TRACKS,
    backbone_config,
    parse_model_config,
    preset_backbone,
    track_of,
)

TASK = IARCTask("IARC")
N, C = TASK.n_symbols, TASK.n_controls
LAYER_FIELDS = ("num_hidden_layers", "n_layer")


def preset_config(name: str, shrink: bool = False, **wrapper):
    """A preset's wrapper config; `shrink` keeps its width and block types but 2 layers."""
    model_type, fields = preset_backbone(name)
    if shrink:
        fields = {k: (2 if k in LAYER_FIELDS else v) for k, v in fields.items()}
        if "layer_types" in fields:
            fields["layer_types"] = ["conv", "full_attention"]
    return backbone_config(model_type, fields, TASK, **wrapper)


def inputs(batch: int, seed: int, length: int = 24) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "input_ids": torch.randint(0, N, (batch, length), generator=g),
        "control_ids": torch.randint(0, C + 1, (batch, length), generator=g),
    }


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


# ----- sizes: a hand count per architecture, from the config fields alone


def _wrapper(w: int) -> int:
    """Tape embedding (N symbols + C controls + "none"), the backbone's unused token table of N
    rows (the vocabulary the wrapper gives it), and the N-way head with its bias."""
    return (N + C + 1) * w + N * w + (w * N + N)


def _llama_layer(f: dict, w: int) -> int:
    return 4 * w * w + 3 * w * f["intermediate_size"] + 2 * w


def _hand_count(model_type: str, f: dict) -> int:
    layers = f.get("num_hidden_layers", f.get("n_layer"))
    if model_type == "llama":
        w = f["hidden_size"]
        return _wrapper(w) + layers * _llama_layer(f, w) + w
    if model_type == "qwen3":  # + per-head RMSNorm of q and k
        w = f["hidden_size"]
        return _wrapper(w) + layers * (_llama_layer(f, w) + 2 * f["head_dim"]) + w
    if model_type in ("gpt2", "gpt_neox"):  # 2 LayerNorms, fused qkv, out, 4x MLP, all biased
        w = f.get("n_embd", f.get("hidden_size"))
        positions = f["n_positions"] * w if model_type == "gpt2" else 0  # learned wpe
        return _wrapper(w) + positions + layers * (12 * w * w + 13 * w) + 2 * w
    if model_type == "mamba2":
        w, heads, state = f["hidden_size"], f["num_heads"], f["state_size"]
        inner, groups, kernel = f["expand"] * w, f["n_groups"], 4
        conv = inner + 2 * groups * state
        layer = w + 3 * heads + conv * kernel + conv
        layer += w * (2 * inner + 2 * groups * state + heads) + inner + inner * w
        return _wrapper(w) + layers * layer + w
    if model_type == "rwkv":
        w, a, ff = f["hidden_size"], f["attention_hidden_size"], f["intermediate_size"]
        attention = 2 * a + 3 * w + 3 * w * a + a * w  # decay, first, 3 mixes, k/v/r, output
        ffn = 2 * w + ff * w + w * w + w * ff
        return _wrapper(w) + 2 * w + layers * (4 * w + attention + ffn) + 2 * w  # pre_ln once
    if model_type == "xlstm":
        w, heads = f["hidden_size"], f["num_heads"]
        qk = w // 2  # qk_dim_factor 0.5
        mlstm = 2 * qk * w + 2 * w * w + 2 * (heads * w + heads) + w + w * w
        up = 64 * -(-int(w * 2.667) // 64)  # ffn_proj_factor 2.667, rounded up to 64
        return _wrapper(w) + layers * (2 * w + mlstm + 3 * up * w) + w
    if model_type == "recurrent_gemma":
        w, lru, heads = f["hidden_size"], f["lru_width"], f["num_attention_heads"]
        block = lru // heads
        mlp = 2 * (w * (f["intermediate_size"] // 2) + f["intermediate_size"] // 2)
        mlp += (f["intermediate_size"] // 2) * w + w
        recurrent = 2 * (w * lru + lru) + lru * w + w  # linear_y, linear_x, linear_out
        recurrent += 4 * lru + lru + lru  # conv (width 4) and its bias, recurrent_param
        recurrent += 2 * (heads * block * block + heads * block)  # input and recurrent gates
        attention = 4 * w * w + w
        kinds = [f["block_types"][i % len(f["block_types"])] for i in range(layers)]
        blocks = sum(recurrent if k == "recurrent" else attention for k in kinds)
        return _wrapper(w) + blocks + layers * (2 * w + mlp) + w
    if model_type == "lfm2":
        w, head_dim = f["hidden_size"], f["hidden_size"] // f["num_attention_heads"]
        ffn = 3 * w * f["intermediate_size"] + 2 * w
        conv = 3 * w + 3 * w * w + w * w  # kernel 3, in_proj to 3w, out_proj
        attention = 4 * w * w + 2 * head_dim
        blocks = sum(conv if k == "conv" else attention for k in f["layer_types"])
        return _wrapper(w) + blocks + layers * ffn + w
    raise AssertionError(f"no hand count for {model_type}: add one with the preset")


@pytest.mark.parametrize("name", BACKBONE_PRESETS)
def test_preset_parameters_match_a_hand_count_and_its_track(name):
    config = preset_config(name)
    with torch.device("meta"):
        params = count(IARCBackboneModel(config))
    model_type, fields = preset_backbone(name)
    assert params == _hand_count(model_type, fields)
    track = BACKBONE_PRESETS[name][0]
    assert track_of(params) == track, (params, TRACKS[track])


# Recurrent state per window and layer, by hand, against what transformers carries.
def test_rwkv_state_is_two_shifts_and_three_accumulators_per_layer():
    config = preset_config("rwkv-small")
    model = IARCBackboneModel(config).eval()
    x = model.embedding(**inputs(1, 0), dtype=torch.float32)
    state = model.backbone(inputs_embeds=x, use_cache=True).state
    f = config.backbone
    per_layer = 2 * f["hidden_size"] + 3 * f["attention_hidden_size"]
    assert sum(s[0].numel() for s in state) == per_layer * f["num_hidden_layers"]


def test_mamba2_state_is_the_conv_window_and_the_ssm_state_per_layer():
    config = preset_config("mamba2-small")
    model = IARCBackboneModel(config).eval()
    x = model.embedding(**inputs(1, 0), dtype=torch.float32)
    cache = model.backbone(inputs_embeds=x, use_cache=True).cache
    f = config.backbone
    inner = f["expand"] * f["hidden_size"]
    conv = (inner + 2 * f["n_groups"] * f["state_size"]) * 4  # kernel 4, kept whole
    ssm = f["num_heads"] * f["head_dim"] * f["state_size"]
    carried = sum(
        t.numel()
        for layer in cache.layers
        for t in (*layer.conv_states.values(), *layer.recurrent_states.values())
    )
    assert carried == (conv + ssm) * f["num_hidden_layers"]


# ----- behaviour of every preset (2 layers: the same blocks, fast)


@pytest.mark.parametrize("name", BACKBONE_PRESETS)
def test_causal_the_future_never_changes_a_position(name):
    model = IARCBackboneModel(preset_config(name, shrink=True)).eval()
    batch = inputs(3, 1)
    with torch.no_grad():
        before = model(**batch).logits
        for t in (1, 12, 23):
            changed = {k: v.clone() for k, v in batch.items()}
            changed["input_ids"][:, t:] = (changed["input_ids"][:, t:] + 1) % N
            changed["control_ids"][:, t:] = (changed["control_ids"][:, t:] + 1) % (C + 1)
            after = model(**changed).logits
            torch.testing.assert_close(after[:, :t], before[:, :t], atol=1e-5, rtol=0)
            assert not torch.allclose(after[:, t], before[:, t])


@pytest.mark.parametrize("name", BACKBONE_PRESETS)
def test_overfits_a_tiny_batch(name):
    torch.manual_seed(0)
    model = IARCBackboneModel(preset_config(name, shrink=True)).train()
    batch = inputs(8, 2)
    batch["input_ids"][:, 0] = torch.arange(8)  # every prefix tells the windows apart
    labels = torch.randint(0, N, (8, 24), generator=torch.Generator().manual_seed(3))
    assert_overfits(model, batch, labels)


@pytest.fixture(scope="module")
def saved_backbones(tmp_path_factory):
    """Every preset (2 layers) saved, then loaded by one fresh Python without iarc_hf."""
    root = tmp_path_factory.mktemp("backbones")
    expected = {}
    for name in BACKBONE_PRESETS:
        torch.manual_seed(0)
        model = IARCBackboneModel(preset_config(name, shrink=True)).eval()
        batch = inputs(2, 4)
        with torch.no_grad():
            expected[name] = model(**batch).logits
        model.save_pretrained(root / name)
        save_file(batch, root / f"{name}.inputs.safetensors")
    return root, expected, load_without_package(root, threads=torch.get_num_threads())


@pytest.mark.integration  # a second Python process loads every preset
@pytest.mark.parametrize("name", BACKBONE_PRESETS)
def test_reloads_without_iarc_hf_with_the_same_logits(saved_backbones, name):
    root, expected, stdout = saved_backbones
    line = next(line for line in stdout.splitlines() if line.startswith(name + " "))
    assert "transformers_modules" in line
    config = json.loads((root / name / "config.json").read_text())
    assert config["model_type"] == "iarc_backbone"
    assert config["auto_map"]["AutoModel"] == "modeling_iarc_backbone.IARCBackboneModel"
    loaded = load_file(root / f"{name}.loaded.safetensors")["logits"]
    torch.testing.assert_close(loaded, expected[name], rtol=1e-5, atol=1e-5)


# ----- labels: already next-symbol aligned, never shifted again


def _hand_batch():
    """Window 3 4 5 6 under I: labels[t] is input_ids[t + 1], the last one the next symbol."""
    input_ids = torch.tensor([[3, 4, 5, 6]])
    control_ids = torch.tensor([[1, 0, 0, 0]])
    labels = torch.tensor([[4, 5, 6, 7]])
    return input_ids, control_ids, labels


@pytest.mark.parametrize("reduction", ["mean", "sum", "last"])
def test_loss_reads_labels_at_their_own_position(reduction):
    config = preset_config("llama-small", shrink=True, loss_reduction=reduction)
    model = IARCBackboneModel(config).eval()
    input_ids, control_ids, labels = _hand_batch()
    out = model(input_ids=input_ids, control_ids=control_ids, labels=labels)
    per_position = F.cross_entropy(out.logits[0], labels[0], reduction="none")
    expected = {"mean": per_position.mean(), "sum": per_position.sum(), "last": per_position[-1]}
    torch.testing.assert_close(out.loss, expected[reduction])
    shifted = F.cross_entropy(out.logits[0, :-1], labels[0, 1:])  # what a second shift gives
    assert not torch.isclose(out.loss, shifted)


def test_inline_causal_lm_loss_is_not_shifted_and_ignores_control_positions():
    task = IARCTask("IARC", encoding="inline")
    model_type, fields = preset_backbone("llama-small")
    config = backbone_config(model_type, {**fields, "num_hidden_layers": 1}, task)
    model = IARCBackboneModel(config).eval()
    assert type(model.lm).__name__ == "LlamaForCausalLM"  # transformers' own, unmodified
    assert model.lm.config.vocab_size == N + C
    # 3 I 4 5 (I is id N): the position before a control has label -100
    input_ids = torch.tensor([[3, N, 4, 5]])
    labels = torch.tensor([[-100, 4, 5, 6]])
    out = model(input_ids=input_ids, labels=labels)
    assert out.logits.shape == (1, 4, N)
    expected = F.cross_entropy(out.logits[0, 1:], labels[0, 1:])
    torch.testing.assert_close(out.loss, expected)


# ----- configuration errors


def test_model_config_from_a_string_or_a_file(tmp_path):
    assert parse_model_config('{"hidden_size": 32}') == {"hidden_size": 32}
    path = tmp_path / "c.json"
    path.write_text('{"num_hidden_layers": 2}')
    assert parse_model_config(str(path)) == {"num_hidden_layers": 2}


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("missing.json", "neither a JSON object nor a JSON file"),
    ],
)
def test_bad_model_config_is_a_one_line_error(text, message):
    with pytest.raises(ValueError, match=message):
        parse_model_config(text)


def test_unknown_model_type_names_the_argument():
    with pytest.raises(ValueError, match="--model_type 'lama' is not a transformers model type"):
        backbone_config("lama", {}, TASK)


def test_onehot_embedding_is_the_papers_code_through_a_projection():
    config = preset_config("gpt2-small", shrink=True, embedding="onehot")
    model = IARCBackboneModel(config)
    assert model.embedding.projection.in_features == N + C
    assert model(**inputs(2, 0)).logits.shape == (2, 24, N)
