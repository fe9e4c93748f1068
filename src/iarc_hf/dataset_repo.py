"""The dataset repository as published: parquet per config and split, and the card.

The folder loads with plain `datasets` (`load_dataset(folder, "IARC")`): the card's YAML
`configs:` names the parquet files, so no code of this package is needed to read it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from iarc_hf.builder import load_iarc
from iarc_hf.cards import dataset_card
from iarc_hf.files import write_text_atomically
from iarc_hf.metrics import oracle_metrics

PARQUET_NAME = "{split}-00000-of-00001.parquet"


def build_dataset_repo(
    output_dir,
    configs,
    sizes: dict[str, int],
    seed: int,
    repo_id: str,
    command: str,
    cache_dir: str | None = None,
) -> tuple[Path, list[dict]]:
    """Write every config's splits as parquet, then the README.md card with oracle ceilings.

    Returns the folder and the ceilings (one row of oracle test metrics per config)."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    infos, ceilings = {}, []
    for config in configs:
        knobs = {f"{split}_size": size for split, size in sizes.items()}
        dataset = load_iarc(config, seed=seed, cache_dir=cache_dir, **knobs)
        _write_parquet_atomically(dataset, out / config)
        infos[config] = dataset[next(iter(dataset))].info
        ceilings.append(_ceiling_row(config, dataset["test"], seed, cache_dir, knobs))
        print(f"{config}: " + ", ".join(f"{s} {len(d):,}" for s, d in dataset.items()))
    card = dataset_card(
        repo_id, infos, ceilings, seed=seed, test_size=sizes["test"], command=command
    )
    write_text_atomically(out / "README.md", str(card))
    return out, ceilings


def _ceiling_row(config, test_split, seed, cache_dir, knobs) -> dict:
    from iarc_hf.builder import IARC

    task = IARC(config_name=config, seed=seed, cache_dir=cache_dir, **knobs).config.task()
    columns = test_split.with_format("numpy")[:]
    return {
        "config": config,
        "n_symbols": task.n_symbols,
        "random": 1 / task.n_symbols,
        "determined_fraction": float(columns["determined"].mean()),
        **oracle_metrics(task, columns),
    }


def _write_parquet_atomically(dataset, target: Path) -> None:
    """Write into a temporary sibling, then swap it in: no half-written config is left."""
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for split, data in dataset.items():
        data.to_parquet(str(staging / PARQUET_NAME.format(split=split)))
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def push_dataset_repo(repo_dir, repo_id: str, configs, private: bool = False) -> str:
    """Push every config with `DatasetDict.push_to_hub(config_name=...)`, then the card."""
    from datasets import load_dataset
    from huggingface_hub import HfApi

    from iarc_hf.hub import hub_errors, require_token

    require_token(repo_id)
    repo_dir = Path(repo_dir)
    with hub_errors(
        repo_id, repo_dir, retry=f"python scripts/build_dataset.py --push_to_hub {repo_id}"
    ):
        for config in configs:
            load_dataset(str(repo_dir), config).push_to_hub(
                repo_id, config_name=config, private=private
            )
        HfApi().upload_file(
            path_or_fileobj=str(repo_dir / "README.md"),
            path_in_repo="README.md",
            repo_id=repo_id,
            repo_type="dataset",
            commit_message="IARC dataset card: rules, fields and oracle ceilings",
        )
    return f"https://huggingface.co/datasets/{repo_id}"
