"""Dataset and model cards, rendered from the Jinja templates in `iarc_hf/hub/templates/`.

The templates are package data, read with `importlib.resources`: an installed wheel renders
cards as a source checkout does.
"""

from __future__ import annotations

import math
from importlib.resources import files

from huggingface_hub import DatasetCard, DatasetCardData, EvalResult, ModelCard, ModelCardData

TEMPLATES = files("iarc_hf.hub") / "templates"


def read_template(name: str) -> str:
    """The text of a card template shipped with the package, e.g. "model_card.md"."""
    template = TEMPLATES / name
    if not template.is_file():
        shipped = sorted(t.name for t in TEMPLATES.iterdir() if t.name.endswith(".md"))
        raise FileNotFoundError(
            f"card template {name!r} is not in the iarc_hf package (it has {shipped}); "
            "reinstall iarc-hf"
        )
    return template.read_text(encoding="utf-8")


def _size_category(n: int) -> str:
    """The Hub's size bucket for n examples."""
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ]
    return next((label for bound, label in bounds if n < bound), "1M<n<10M")


def _cell(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.4f}"


def _dataset_card_data(infos: dict) -> DatasetCardData:
    """The card's YAML: license, tags, and one `configs` / `dataset_info` entry per config (the
    first is the default)."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    card_data = DatasetCardData(
        license="apache-2.0",
        pretty_name="IARC task switching",
        tags=["task-switching", "synthetic", "algorithmic-reasoning", "iarc"],
        task_categories=["text-generation"],
        size_categories=[_size_category(sum(i.splits.total_num_examples for i in infos.values()))],
    )
    configs = MetadataConfigs(
        {
            name: {
                "data_files": [
                    {"split": split, "path": f"{name}/{split}-*.parquet"} for split in info.splits
                ],
                **({"default": True} if i == 0 else {}),
            }
            for i, (name, info) in enumerate(infos.items())
        }
    )
    configs.to_dataset_card_data(card_data)
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    return card_data


def dataset_card(
    repo_id: str,
    infos: dict,
    ceilings: list[dict],
    seed: int,
    test_size: int,
    command: str,
) -> DatasetCard:
    """The dataset repository's README.md: YAML `configs` / `dataset_info`, rules, ceilings.

    `infos` maps config name -> `datasets.DatasetInfo` (features and split sizes);
    `ceilings` holds one row per config with the oracle's test metrics.
    """
    from iarc_hf.data.builder import CITATION

    card_data = _dataset_card_data(infos)
    rows = [
        {
            **row,
            **{letter: _cell(row[f"oracle_accuracy_{letter}"]) for letter in "IARC"},
        }
        for row in ceilings
    ]
    summary = ", ".join(
        f"`{name}` ("
        + ", ".join(f"{split} {info.splits[split].num_examples:,}" for split in info.splits)
        + ")"
        for name, info in infos.items()
    )
    return DatasetCard.from_template(
        card_data,
        template_str=read_template("dataset_card.md"),
        repo_id=repo_id,
        ceilings=rows,
        config_summary=summary,
        seed=seed,
        test_size=f"{test_size:,}",
        command=command,
        citation=CITATION,
    )


# Only what the project's docs state about each paper; no guessed titles.
CITATIONS = {
    "expressive": """@misc{gros2024expressive,
  author = {Gros, Claudius},
  note   = {Expressive attention, arXiv:2407.18601},
  year   = {2024}
}""",
    "cog": """@misc{lv2024cog,
  title  = {More Expressive Attention with Negative Weights},
  author = {Lv, Ang and others},
  note   = {arXiv:2411.07176},
  year   = {2024}
}""",
    "pre_projection": """@misc{shinde2026,
  author = {Shinde},
  note   = {Pre-projection and content skip, arXiv:2604.10791},
  year   = {2026}
}""",
}


def describe_backbone(config) -> tuple[str, str]:
    """A `transformers` backbone wrapped for IARC (IARCBackboneConfig): its type and config."""
    import json

    fields = {k: v for k, v in config.backbone.items() if k != "model_type"}
    reads = (
        "the inline stream as input_ids of an unmodified AutoModelForCausalLM"
        if config.encoding == "inline"
        else f"{config.embedding} symbol + control embeddings as inputs_embeds, a linear head"
    )
    line = (
        f"transformers `{config.backbone_type}` backbone (`AutoModel.from_config`), width "
        f"{config.width}; reads {reads}; backbone config `{json.dumps(fields, sort_keys=True)}`"
    )
    return f"{config.backbone_type} backbone", line


def describe_architecture(config) -> tuple[str, str]:
    """A short name and a one-line description of a model config."""
    if getattr(config, "model_type", None) == "iarc_backbone":
        return describe_backbone(config)
    if config.architecture == "transformer":
        name = "cisformer" if config.position_wise else "transformer"
        attention = {"dpa": "dot-product", "expressive": "expressive", "cog": "cog (signed)"}[
            config.attention
        ]
        extras = [x for x in ("pre_projection", "content_skip") if getattr(config, x)]
        line = (
            f"{config.num_hidden_layers} pre-norm layers, {config.num_attention_heads} heads, "
            f"width {config.hidden_size}, {attention} attention, {config.positions} positions"
            + (
                ", position-wise weights (one copy per position)"
                if config.position_wise
                else ", shared weights"
            )
            + (f", {' + '.join(extras)}" if extras else "")
        )
        return f"{name} with {attention} attention", line
    if config.architecture == "mlp":
        return "causal MLP", f"{config.num_hidden_layers} causal dense layers over the window"
    return "LSTM", f"{config.num_hidden_layers} layers, hidden size {config.lstm_hidden_size}"


def architecture_tag(config) -> str:
    """The Hub tag of a model's architecture: ours by name, a backbone by its model type."""
    return getattr(config, "architecture", None) or config.backbone_type


def card_title(model: str, dataset_config: str) -> str:
    """ "cisformer-ea on IARC", or "cisformer-ea on IARC (config IA)" for a smaller control set."""
    suffix = "" if dataset_config == "IARC" else f" (config {dataset_config})"
    return f"{model} on IARC{suffix}"


def model_card(
    *, config, run: dict, metrics: dict, repo_id: str, dataset_repo_id: str, command: str
) -> ModelCard:
    """README.md of a trained checkpoint: what it is, how it was trained, results vs the oracle.

    `run` holds the training facts (preset, params, steps, optimizer, ...), `metrics` the
    test metrics with their `oracle_*` twins.
    """
    description, line = describe_architecture(config)
    card_data = ModelCardData(
        library_name="transformers",
        license="apache-2.0",
        tags=["iarc", "task-switching", architecture_tag(config), run["preset"] or "custom"],
        datasets=[dataset_repo_id],
        metrics=["accuracy"],
        model_name=repo_id,
        eval_results=eval_results(metrics, run["dataset_config"], dataset_repo_id),
    )
    return ModelCard.from_template(
        card_data,
        template_str=read_template("model_card.md"),
        description=description,
        architecture_line=line,
        repo_id=repo_id,
        model_name=card_title(run["preset"] or description, run["dataset_config"]),
        results=results_rows(metrics, config.n_symbols),
        citations=model_citations(config),
        command=command,
        n_symbols=config.n_symbols,
        n_controls=config.n_controls,
        context_length=config.context_length,
        **run,
    )


def eval_results(metrics: dict, dataset_config: str, dataset_repo_id: str) -> list[EvalResult]:
    """The card metadata's test results (the Hub's model-index), one per metric with a value."""
    from iarc_hf.eval.metrics import METRIC_NAMES

    return [
        EvalResult(
            task_type="text-generation",
            task_name="IARC next-symbol prediction",
            dataset_type=dataset_repo_id,
            dataset_name="IARC",
            dataset_config=dataset_config,
            dataset_split="test",
            metric_type="accuracy",
            metric_name=name,
            metric_value=round(metrics[name], 4),
        )
        for name in METRIC_NAMES
        if not math.isnan(metrics[name])
    ]


def results_rows(metrics: dict, n_symbols: int) -> list[dict]:
    """The card's results table: each metric beside the oracle's and a random guess's."""
    from iarc_hf.eval.metrics import METRIC_NAMES

    random = 1 / n_symbols
    return [
        {
            "name": f"`{name}`",
            "model": _cell(metrics[name]),
            "oracle": _cell(metrics[f"oracle_{name}"]),
            "random": f"{random:.4f}",
        }
        for name in METRIC_NAMES
    ]


def model_citations(config) -> list[str]:
    """The benchmark's citation, and the papers behind the model's attention and extras."""
    from iarc_hf.data.builder import CITATION

    citations = [CITATION]
    if getattr(config, "attention", None) in CITATIONS:
        citations.append(CITATIONS[config.attention])
    if getattr(config, "pre_projection", False) or getattr(config, "content_skip", False):
        citations.append(CITATIONS["pre_projection"])
    return citations
