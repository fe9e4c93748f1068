"""What a built dataset folder already holds: its configs (one parquet folder each), their
`DatasetInfo` from the card, and their windows read back from parquet a chunk at a time.

A partial build (`--configs IA`) keeps the other configs of the folder; the card must go on
listing them, so their infos are read back here, and they are checked to be of the same
seed and sizes as the run's, since the card states one seed and one test size for all.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iarc_hf.data.builder import all_control_sets
from iarc_hf.data.generator import CHUNK_SIZE, FIELD_DTYPES, iter_split
from iarc_hf.data.tasks import IARCTask

PARQUET_NAME = "{split}-00000-of-00001.parquet"


class DatasetFolderError(ValueError):
    """The folder holds configs this run cannot keep in its card; nothing was written."""


def built_configs(folder) -> list[str]:
    """The configs with a test split in `folder`, in the builder's order (IARC first)."""
    folder = Path(folder)
    test_file = PARQUET_NAME.format(split="test")
    return [name for name in all_control_sets() if (folder / name / test_file).is_file()]


def kept_infos(folder, rebuilt, sizes: dict[str, int], seed: int) -> dict:
    """config -> `DatasetInfo` (read from the folder's card) of every config in `folder` that
    this run does not rebuild; DatasetFolderError if one cannot be kept as it is."""
    folder = Path(folder)
    kept = [name for name in built_configs(folder) if name not in rebuilt]
    if not kept:
        return {}
    rebuild = f"rebuild them too (--configs {' '.join([*rebuilt, *kept])}) or use another folder"
    infos = _card_infos(folder)
    missing = [name for name in kept if name not in infos]
    if missing:
        raise DatasetFolderError(
            f"{folder} holds {', '.join(missing)}, which its README.md does not describe; {rebuild}"
        )
    for name in kept:
        built = {split: info.num_examples for split, info in infos[name].splits.items()}
        if built != sizes:
            raise DatasetFolderError(
                f"{folder}/{name} has split sizes {built}, this run {sizes}; {rebuild}"
            )
        if not _same_first_window(folder / name, name, seed):
            raise DatasetFolderError(
                f"{folder}/{name} was not built with seed {seed} by this code; {rebuild}"
            )
    return {name: infos[name] for name in kept}


def _card_infos(folder: Path) -> dict:
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCard

    card = folder / "README.md"
    if not card.is_file():
        return {}
    return dict(DatasetInfosDict.from_dataset_card_data(DatasetCard.load(card).data))


def _same_first_window(config_folder: Path, config: str, seed: int) -> bool:
    task = IARCTask(config)
    stored = next(parquet_windows(config_folder / PARQUET_NAME.format(split="test"), 1))
    expected = next(iter_split(task, "test", 1, seed))
    return all(np.array_equal(stored[key], expected[key]) for key in FIELD_DTYPES)


def parquet_windows(path, batch_size: int = CHUNK_SIZE):
    """The windows of one parquet split, `batch_size` at a time, as (n, L) numpy arrays of the
    generator's dtypes: memory holds one batch whatever the split's size."""
    import pyarrow.parquet as pq

    columns = list(FIELD_DTYPES)
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns):
        yield {name: _matrix(batch.column(name), FIELD_DTYPES[name]) for name in columns}


def _matrix(column, dtype) -> np.ndarray:
    """A column of equal-length lists as an (n, L) array."""
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.astype(dtype, copy=False).reshape(len(column), -1)
