"""IARC as a `datasets` builder: one config per control set, every `IARCTask` knob a keyword.

    import iarc_hf
    from datasets import load_dataset
    ds = load_dataset("iarc", "IARC")                     # train / validation / test
    ds = load_dataset("iarc", "IA", max_gap=5, test_size=2000)

`import iarc_hf` registers the name "iarc" with `datasets` (see `register_with_datasets`);
`load_iarc(...)` does the same without the name lookup.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass

import datasets
import numpy as np

from iarc_hf.data.generator import FIELD_DTYPES, SPLITS, iter_split
from iarc_hf.data.tasks import CONTROL_LETTERS, PUBLISHED_CONFIGS, IARCTask

DATASET_NAME = "iarc"
DEFAULT_SIZES = {"train": 100_000, "validation": 10_000, "test": 10_000}
DEFAULT_SEED = 0

_VALUE_TYPES = {
    np.int64: "int64",
    np.int16: "int16",
    np.int8: "int8",
    np.bool_: "bool",
}


def all_control_sets() -> list[str]:
    """Every valid control string, e.g. "IARC", "IA", "RC": the builder's config names."""
    sets = []
    for size in range(len(CONTROL_LETTERS), 0, -1):
        for letters in itertools.combinations(CONTROL_LETTERS, size):
            if letters != ("C",):
                sets.append("".join(letters))
    return sets


def empty_config_name() -> ValueError:
    """The error for config name "": datasets would read it as no name (IARC) silently."""
    return ValueError(
        f"config name '' is empty: give a control set, one of the published configs "
        f"{', '.join(PUBLISHED_CONFIGS)} (any of {', '.join(all_control_sets())} builds); "
        "leave the name out for the default, IARC"
    )


@dataclass
class IARCBuilderConfig(datasets.BuilderConfig):
    """A control set (the config name) plus the task knobs, split sizes and seed."""

    n_symbols: int | None = None
    min_gap: int = 1
    max_gap: int = 9
    context_length: int = 24
    encoding: str = "tape"
    train_size: int = DEFAULT_SIZES["train"]
    validation_size: int = DEFAULT_SIZES["validation"]
    test_size: int = DEFAULT_SIZES["test"]
    seed: int = DEFAULT_SEED

    def task(self) -> IARCTask:
        return IARCTask.from_attributes(self.name, self)

    def split_size(self, split: str) -> int:
        return getattr(self, f"{split}_size")


def features(task: IARCTask) -> datasets.Features:
    """Fixed-length lists of the window's fields (length = context_length)."""
    return datasets.Features(
        {
            key: datasets.List(datasets.Value(_VALUE_TYPES[dtype]), length=task.context_length)
            for key, dtype in FIELD_DTYPES.items()
        }
    )


class IARC(datasets.GeneratorBasedBuilder):
    """The IARC task-switching benchmark (Gros, arXiv:2508.04461)."""

    BUILDER_CONFIG_CLASS = IARCBuilderConfig
    BUILDER_CONFIGS = [IARCBuilderConfig(name=name) for name in all_control_sets()]
    DEFAULT_CONFIG_NAME = "IARC"
    VERSION = datasets.Version("1.0.0")

    def __init__(self, *args, **kwargs):
        if kwargs.get("config_name") == "":
            raise empty_config_name()
        super().__init__(*args, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        task = self.config.task()  # validates every knob with a clear ValueError
        for split in SPLITS:
            size = self.config.split_size(split)
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError(f"{split}_size must be an integer >= 0, got {size!r}")
        if (
            isinstance(self.config.seed, bool)
            or not isinstance(self.config.seed, int)
            or self.config.seed < 0
        ):
            raise ValueError(f"seed must be an integer >= 0, got {self.config.seed!r}")
        return datasets.DatasetInfo(
            description=f"IARC task switching, controls {task.controls}, N={task.n_symbols}",
            features=features(task),
            homepage="https://arxiv.org/abs/2508.04461",
            citation=CITATION,
        )

    def _split_generators(self, dl_manager):
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"split": split})
            for split in SPLITS
            if self.config.split_size(split) > 0
        ]

    def _generate_examples(self, split: str):
        task = self.config.task()
        index = 0
        for chunk in iter_split(task, split, self.config.split_size(split), self.config.seed):
            columns = {key: chunk[key].tolist() for key in FIELD_DTYPES}
            for row in range(len(chunk["input_ids"])):
                yield index, {key: values[row] for key, values in columns.items()}
                index += 1


CITATION = """@inproceedings{gros2025small,
  title     = {Small transformer architectures for task switching},
  author    = {Gros, Claudius},
  booktitle = {Artificial Neural Networks and Machine Learning -- ICANN 2025},
  year      = {2025},
  note      = {arXiv:2508.04461}
}"""


def load_iarc(config: str = "IARC", split: str | None = None, **knobs):
    """Build (or reuse from the cache) IARC `config` with `knobs`, as `load_dataset` would."""
    builder = IARC(config_name=config, **knobs)
    builder.download_and_prepare()
    return builder.as_dataset(split=split)


def _module_hash() -> str:
    from hashlib import sha256

    import iarc_hf.data.generator
    import iarc_hf.data.oracle
    import iarc_hf.data.rule_state
    import iarc_hf.data.tasks

    # the cache must change whenever the code that makes the bytes changes
    modules = (
        iarc_hf.data.tasks,
        iarc_hf.data.rule_state,
        iarc_hf.data.generator,
        iarc_hf.data.oracle,
        inspect.getmodule(IARC),
    )
    return sha256("".join(inspect.getsource(m) for m in modules).encode()).hexdigest()


def register_with_datasets() -> None:
    """Make `load_dataset("iarc", ...)` find this builder.

    datasets has no public hook for a named builder: its `load_dataset_builder` resolves
    a name through the module-level `dataset_module_factory`, which we wrap so that
    "iarc" resolves to this module. A test guards the hook; if a datasets release
    changes these internals, this raises with the version instead of failing obscurely.
    """
    import datasets.load as load

    factory = getattr(load, "dataset_module_factory", None)
    module_cls = getattr(load, "DatasetModule", None)
    if factory is None or module_cls is None or "path" not in inspect.signature(factory).parameters:
        raise RuntimeError(
            f"iarc_hf cannot register the dataset name 'iarc' with datasets {datasets.__version__}: "
            "its internals changed. Use iarc_hf.load_iarc(...) or "
            "load_dataset('dataset_builders/iarc', ...) instead."
        )
    if getattr(factory, "_iarc_registered", False):
        return

    def dataset_module_factory(path, *args, **kwargs):
        if path == DATASET_NAME:
            return module_cls(__name__, _module_hash(), {"dataset_name": DATASET_NAME})
        return factory(path, *args, **kwargs)

    dataset_module_factory._iarc_registered = True
    dataset_module_factory.__wrapped__ = factory
    load.dataset_module_factory = dataset_module_factory
    _refuse_empty_config_name(load)


def _refuse_empty_config_name(load) -> None:
    """`load_dataset("iarc", "")` raises: datasets turns the name "" into None (the default
    config) before the builder sees it, so the check sits in `load_dataset_builder`, which
    `load_dataset` calls through the module."""
    builder_factory = load.load_dataset_builder

    def load_dataset_builder(path, name=None, *args, **kwargs):
        if path == DATASET_NAME and name == "":
            raise empty_config_name()
        return builder_factory(path, name, *args, **kwargs)

    load_dataset_builder.__wrapped__ = builder_factory
    load_dataset_builder.__doc__ = builder_factory.__doc__
    load.load_dataset_builder = load_dataset_builder
    datasets.load_dataset_builder = load_dataset_builder
