"""Muon for the matrices, AdamW for the rest: the same steps as torch's own optimizers, stacks of
position-wise matrices orthogonalised one by one, and every parameter in exactly one group."""

import pytest
import torch
from model_cases import OPTION_CASES, option_config, random_inputs

from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.training.muon import MuonAdamW, is_muon_matrix, muon_param_groups, orthogonalise


def steps_of(optimizer_a, optimizer_b, a, b, n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n):
        grad = torch.randn(a.shape, generator=g)
        a.grad, b.grad = grad.clone(), grad.clone()
        optimizer_a.step()
        optimizer_b.step()


@pytest.mark.parametrize("shape", [(20, 60), (80, 20), (16, 16)])
def test_a_matrix_takes_torch_muons_steps_exactly(shape):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    a, b = torch.nn.Parameter(w.clone()), torch.nn.Parameter(w.clone())
    ours = MuonAdamW([{"params": [a], "muon": True}], lr=0.01, weight_decay=0.1)
    torchs = torch.optim.Muon([b], lr=0.01, weight_decay=0.1, adjust_lr_fn="match_rms_adamw")
    steps_of(ours, torchs, a, b)
    assert not torch.equal(a, w) and torch.equal(a, b)


def test_the_rest_takes_torch_adamws_steps_exactly():
    w = torch.randn(5, 7, generator=torch.Generator().manual_seed(2))
    a, b = torch.nn.Parameter(w.clone()), torch.nn.Parameter(w.clone())
    ours = MuonAdamW([a], lr=0.01, weight_decay=0.1, betas=(0.9, 0.98))
    torchs = torch.optim.AdamW([b], lr=0.01, weight_decay=0.1, betas=(0.9, 0.98))
    steps_of(ours, torchs, a, b)
    assert not torch.equal(a, w) and torch.equal(a, b)


@pytest.mark.parametrize("shape", [(24, 20, 60), (3, 24, 80, 20)])
def test_a_stack_of_matrices_is_orthogonalised_matrix_by_matrix(shape):
    grad = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    flat, stacked = grad.reshape(-1, *shape[-2:]), orthogonalise(grad).reshape(-1, *shape[-2:])
    for one, out in zip(flat, stacked, strict=True):
        assert torch.equal(out, orthogonalise(one))
    # Newton-Schulz lands the singular values near one (torch's coefficients: about 0.5 to 1.5)
    singular = torch.linalg.svdvals(stacked)
    assert singular.min() > 0.4 and singular.max() < 1.6


@pytest.mark.parametrize("case", OPTION_CASES)
def test_every_parameter_is_in_exactly_one_group(case):
    model = IARCModel(option_config(case))
    groups = muon_param_groups(model)
    grouped = [id(p) for g in groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())
    names = dict(model.named_parameters())
    for name, p in names.items():
        trailing = p.shape[-2:] if p.ndim >= 2 else ()
        matrix = len(trailing) == 2 and min(trailing) > 1 and not name.startswith("head")
        assert is_muon_matrix(name, p) == (matrix and "embed" not in name), name
    assert any(g["muon"] for g in groups), "every model has matrices inside"


def test_a_cisformer_trained_with_muon_overfits_a_tiny_batch():
    config = option_config("preset=cisformer-dpa")
    torch.manual_seed(0)
    model = IARCModel(config)
    inputs = random_inputs(config, 8, torch.Generator().manual_seed(0))
    labels = torch.randint(0, config.n_symbols, (8, config.context_length))
    optimizer = MuonAdamW(muon_param_groups(model), lr=1e-2)
    first = model(**inputs, labels=labels).loss.item()
    for _ in range(300):
        optimizer.zero_grad()
        loss = model(**inputs, labels=labels).loss
        loss.backward()
        optimizer.step()
    assert first > 2.0 and loss.item() < 0.05, (first, loss.item())
