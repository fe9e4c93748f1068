"""`--data_source dataset`: batches read row by row from the memory-mapped train split are the
bytes the whole-split-in-memory implementation gave."""

from types import SimpleNamespace

import numpy as np
import pytest

from iarc_hf.data.builder import load_iarc
from iarc_hf.data.tasks import IARCTask
from iarc_hf.training.loop import TrainBatches


def whole_split_batches(task, data_args, run, process, world, steps):
    """The implementation before streaming, kept as the reference: the whole train split as
    numpy arrays, a seeded permutation per epoch, rows taken by step and process."""
    train = load_iarc(
        task.controls,
        split="train",
        seed=data_args.data_seed,
        train_size=data_args.train_size,
        validation_size=0,
        test_size=0,
        **task.other_knobs(),
    )
    split = train.with_format("numpy")[:]
    size, n = run.per_device_train_batch_size, len(split["input_ids"])
    for step in steps:
        per_epoch = max(n // (size * world), 1)
        epoch, index = divmod(step, per_epoch)
        order = np.random.default_rng([run.seed, epoch]).permutation(n)
        start = (index * world + process) * size
        rows = order[np.arange(start, start + size) % n]
        yield {key: value[rows] for key, value in split.items()}


@pytest.mark.parametrize(
    "train_size, batch_size, world", [(100, 16, 1), (100, 16, 2), (10, 16, 1), (257, 32, 3)]
)
def test_batches_are_byte_identical_to_the_whole_split_implementation(
    train_size, batch_size, world
):
    task = IARCTask("IAR")
    data_args = SimpleNamespace(data_source="dataset", data_seed=1, train_size=train_size)
    run = SimpleNamespace(per_device_train_batch_size=batch_size, seed=7, train_labels="all")
    steps = [0, 1, 2, 3, 4, 9, 2]  # epoch changes, and back to an earlier epoch
    for process in range(world):
        batches = TrainBatches(task, data_args, run, process, world)
        expected = whole_split_batches(task, data_args, run, process, world, steps)
        for step, reference in zip(steps, expected, strict=True):
            batch = batches(step)
            assert list(batch) == list(reference)
            for key, value in reference.items():
                assert batch[key].dtype == value.dtype, key
                assert batch[key].tobytes() == value.tobytes(), (step, key)


def test_the_split_stays_memory_mapped():
    from datasets.table import MemoryMappedTable

    data_args = SimpleNamespace(data_source="dataset", data_seed=0, train_size=100)
    run = SimpleNamespace(per_device_train_batch_size=8, seed=0, train_labels="all")
    batches = TrainBatches(IARCTask("IA"), data_args, run, 0, 1)
    assert isinstance(batches.split.data, MemoryMappedTable)  # rows read from the Arrow file
    assert batches(0)["input_ids"].shape == (8, 24)
