"""Checkpoints saved by iarc-hf 0.1.0 (tests/data/checkpoints_v0_1, made before the package was
split into subpackages) load with the current package and give the logits they gave then: the
config.json `auto_map` and the weight names of published checkpoints keep working."""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModel

from iarc_hf import IARCBackboneModel, IARCModel, IARCTask
from iarc_hf.hub.safe_loading import load_checkpoint, source_for

FIXTURES = Path(__file__).resolve().parent / "data" / "checkpoints_v0_1"
CHECKPOINTS = {"cisformer-ea": IARCModel, "lstm": IARCModel, "llama-backbone": IARCBackboneModel}
TASK = IARCTask("IARC", n_symbols=4, max_gap=3, context_length=6)


def assert_same_logits(model, folder: Path) -> None:
    expected = load_file(str(folder / "expected.safetensors"))
    with torch.no_grad():
        logits = model.eval()(expected["input_ids"], expected["control_ids"]).logits
    torch.testing.assert_close(logits, expected["logits"], atol=1e-5, rtol=0)


def test_every_fixture_is_here():
    assert sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) == sorted(CHECKPOINTS)


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_an_old_checkpoint_loads_with_its_class(name):
    model_class = CHECKPOINTS[name]
    model = model_class.from_pretrained(FIXTURES / name, use_safetensors=True)
    assert_same_logits(model, FIXTURES / name)


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_an_old_checkpoint_loads_through_the_auto_classes(name):
    # the package registers its model types: no checkpoint code is needed (or present)
    model = AutoModel.from_pretrained(FIXTURES / name, trust_remote_code=False)
    assert type(model) is CHECKPOINTS[name]
    assert_same_logits(model, FIXTURES / name)


@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_an_old_checkpoint_loads_safely(name):
    model, task = load_checkpoint(source_for(str(FIXTURES / name)))
    assert type(model) is CHECKPOINTS[name] and task == TASK
    assert_same_logits(model, FIXTURES / name)
