"""Dataset and model cards, rendered from the Jinja templates in `model_cards/`."""

from __future__ import annotations

import math
from pathlib import Path

from huggingface_hub import DatasetCard, DatasetCardData

TEMPLATES = Path(__file__).resolve().parents[2] / "model_cards"


def template_path(name: str) -> Path:
    path = TEMPLATES / name
    if not path.is_file():
        raise FileNotFoundError(
            f"card template {path} not found: cards are rendered from a source checkout of iarc-hf"
        )
    return path


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
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs

    from iarc_hf.builder import CITATION

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
        template_path=str(template_path("dataset_card.md")),
        repo_id=repo_id,
        ceilings=rows,
        config_summary=summary,
        seed=seed,
        test_size=f"{test_size:,}",
        command=command,
        citation=CITATION,
    )
