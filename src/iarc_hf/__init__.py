"""iarc-hf: the IARC task-switching benchmark and its model family, the Hugging Face way.

`import iarc_hf` registers the dataset name "iarc" with `datasets` and the model type
"iarc" with `transformers`' Auto classes.
"""

import warnings

from transformers import AutoConfig, AutoModel

from iarc_hf.configuration_iarc import IARCConfig
from iarc_hf.configuration_iarc_backbone import IARCBackboneConfig
from iarc_hf.data.builder import IARC, load_iarc, register_with_datasets
from iarc_hf.data.generator import generate, generate_split, stream_batch
from iarc_hf.data.oracle import oracle_predict
from iarc_hf.data.tasks import IARCTask
from iarc_hf.eval.metrics import compute_metrics, oracle_metrics
from iarc_hf.eval.trainer_metrics import make_compute_metrics, preprocess_logits_for_metrics
from iarc_hf.modeling_iarc import IARCModel
from iarc_hf.modeling_iarc_backbone import IARCBackboneModel

AutoConfig.register("iarc", IARCConfig)
AutoModel.register(IARCConfig, IARCModel)
AutoConfig.register("iarc_backbone", IARCBackboneConfig)
AutoModel.register(IARCBackboneConfig, IARCBackboneModel)

try:
    register_with_datasets()
except RuntimeError as error:  # a future datasets release: everything else still works
    warnings.warn(str(error), stacklevel=2)

__all__ = [
    "IARC",
    "IARCBackboneConfig",
    "IARCBackboneModel",
    "IARCConfig",
    "IARCModel",
    "IARCTask",
    "compute_metrics",
    "generate",
    "generate_split",
    "load_iarc",
    "make_compute_metrics",
    "oracle_metrics",
    "oracle_predict",
    "preprocess_logits_for_metrics",
    "stream_batch",
]
__version__ = "0.1.0"
