"""Small model configs for the tests, generated from the registries in configuration_iarc, so a
newly registered preset or option is tested the moment it exists."""

import torch

from iarc_hf.configuration_iarc import (
    ARCHITECTURES,
    ATTENTIONS,
    EMBEDDINGS,
    ENCODINGS,
    POSITIONS,
    PRESETS,
    READINGS,
    IARCConfig,
)

# Few layers and a narrow LSTM keep every test fast; the shapes stay those of the presets.
# Three layers, so that cisformer-cog (plain softmax in the first and last) still has a cog layer.
SMALL = {"num_hidden_layers": 3, "lstm_hidden_size": 32}
BASE_PRESET = {"transformer": "transformer-dpa", "mlp": "mlp", "lstm": "lstm"}


def small_config(preset: str, **overrides) -> IARCConfig:
    return IARCConfig.from_preset(preset, **{**SMALL, **overrides})


def _option_cases() -> dict[str, tuple[str, dict]]:
    cases = {f"preset={p}": (p, {}) for p in PRESETS}
    for position_wise in (False, True):
        kind = "cisformer" if position_wise else "transformer"
        for attention in ATTENTIONS:
            cases[f"{kind}-{attention}"] = (
                "transformer-dpa",
                dict(attention=attention, position_wise=position_wise),
            )
        for positions in POSITIONS:
            cases[f"{kind}-positions={positions}"] = (
                "transformer-ea",
                dict(positions=positions, position_wise=position_wise),
            )
        for pre_projection in (False, True):
            for content_skip in (False, True):
                cases[f"{kind}-pre_projection={pre_projection}-content_skip={content_skip}"] = (
                    "transformer-ea",
                    dict(
                        position_wise=position_wise,
                        pre_projection=pre_projection,
                        content_skip=content_skip,
                    ),
                )
        for field, values in READINGS.items():  # the readings of the paper, on EA blocks
            for value in values[1:]:
                cases[f"{kind}-{field}={value}"] = (
                    "transformer-ea",
                    {field: value, "position_wise": position_wise},
                )
    cases["cog_softmax_edges"] = ("cisformer-cog", dict(num_hidden_layers=3))
    for architecture in ARCHITECTURES:
        for embedding in EMBEDDINGS:
            for encoding in ENCODINGS:
                extra = {"hidden_size": 24} if embedding == "learned" else {}
                cases[f"{architecture}-{embedding}-{encoding}"] = (
                    BASE_PRESET[architecture],
                    dict(embedding=embedding, encoding=encoding, **extra),
                )
    return cases


OPTION_CASES = _option_cases()


def option_config(case: str) -> IARCConfig:
    preset, overrides = OPTION_CASES[case]
    return small_config(preset, **overrides)


def random_inputs(config: IARCConfig, batch: int, generator: torch.Generator) -> dict:
    """input_ids (and control_ids on the tape encoding) for a batch of full windows."""
    shape = (batch, config.context_length)
    inputs = {"input_ids": torch.randint(0, config.input_vocab_size, shape, generator=generator)}
    if config.encoding == "tape":
        inputs["control_ids"] = torch.randint(0, config.n_controls + 1, shape, generator=generator)
    return inputs


def assert_overfits(model, inputs: dict, labels, steps: int = 300) -> None:
    """Adam at 1e-2 drives the loss on one tiny batch from above 2 to below 0.05."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = loss = None
    for _ in range(steps):
        optimizer.zero_grad()
        loss = model(**inputs, labels=labels).loss
        first = first if first is not None else loss.item()
        loss.backward()
        optimizer.step()
        if loss.item() < 0.05:
            break
    assert first > 2.0 and loss.item() < 0.05, (first, loss.item())
