"""The dataset repository as published: parquet per config and split, and the card.

The folder loads with plain `datasets` (`load_dataset(folder, "IARC")`): the card's YAML
`configs:` names the parquet files, so no code of this package is needed to read it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from iarc_hf.data.builder import load_iarc
from iarc_hf.data.dataset_folder import PARQUET_NAME, built_configs, kept_infos, parquet_windows
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.metrics import add_counts, metrics_from_counts, oracle_counts
from iarc_hf.files import partial_sibling, replace_folder, write_text_atomically
from iarc_hf.hub.cards import dataset_card


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

    The card lists every config in the folder: those built now and those built before (of
    the same seed and sizes, else DatasetFolderError before anything is written).
    Returns the folder and the ceilings (one row of oracle test metrics per config)."""
    if sizes.get("test", 0) < 1:
        raise ValueError(f"the test size must be >= 1 (the card's ceilings), got {sizes}")
    out = Path(output_dir)
    infos = kept_infos(out, configs, sizes, seed)
    out.mkdir(parents=True, exist_ok=True)
    for config in configs:
        knobs = {f"{split}_size": size for split, size in sizes.items()}
        dataset = load_iarc(config, seed=seed, cache_dir=cache_dir, **knobs)
        _write_parquet_atomically(dataset, out / config)
        infos[config] = dataset[next(iter(dataset))].info
        print(f"{config}: " + ", ".join(f"{s} {len(d):,}" for s, d in dataset.items()))
    infos = {name: infos[name] for name in built_configs(out)}
    ceilings = [
        _ceiling_row(name, out / name / PARQUET_NAME.format(split="test")) for name in infos
    ]
    card = dataset_card(
        repo_id, infos, ceilings, seed=seed, test_size=sizes["test"], command=command
    )
    write_text_atomically(out / "README.md", str(card))
    return out, ceilings


def _ceiling_row(config: str, test_file: Path) -> dict:
    """The oracle's metrics on a config's test split, read back from its parquet in chunks."""
    task = IARCTask(config)
    counts, determined, positions = None, 0, 0
    for windows in parquet_windows(test_file):
        counts = add_counts(counts, oracle_counts(task, windows))
        determined += int(np.count_nonzero(windows["determined"]))
        positions += windows["determined"].size
    return {
        "config": config,
        "n_symbols": task.n_symbols,
        "random": 1 / task.n_symbols,
        "determined_fraction": determined / positions,
        **metrics_from_counts(counts, prefix="oracle_"),
    }


def _write_parquet_atomically(dataset, target: Path) -> None:
    """Write into a temporary sibling, then swap it in: no half-written config is left."""
    staging = partial_sibling(target)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for split, data in dataset.items():
        data.to_parquet(str(staging / PARQUET_NAME.format(split=split)))
    replace_folder(staging, target)


def push_dataset_repo(repo_dir, repo_id: str, configs, private: bool = False) -> str:
    """Push every config with `DatasetDict.push_to_hub(config_name=...)`, then the card."""
    from datasets import load_dataset
    from huggingface_hub import HfApi

    from iarc_hf.hub.push import check_repo_id, hub_errors, require_token

    check_repo_id(repo_id)
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
