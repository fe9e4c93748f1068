"""Train an IARC model with accelerate, then evaluate, save and (optionally) push it.

    accelerate launch scripts/train.py --output_dir runs/cisformer-ea --preset cisformer-ea
    accelerate launch scripts/train.py --output_dir runs/t --preset transformer-ea \
        --dataset_config IA --num_hidden_layers 12 --optimizer adamw --learning_rate 1e-3
    accelerate launch scripts/train.py config.yaml          # the same arguments from a file

Arguments are those of `iarc_hf.training_args` (`--help` lists them all); on one CPU,
`python scripts/train.py ...` works too.
"""

import sys

from transformers import HfArgumentParser

from iarc_hf.training import train
from iarc_hf.training_args import DataArguments, ModelArguments, RunArguments


def parse(argv: list[str]):
    parser = HfArgumentParser((ModelArguments, DataArguments, RunArguments))
    if len(argv) == 1 and argv[0].endswith(".json"):
        return parser.parse_json_file(argv[0])
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml")):
        return parser.parse_yaml_file(argv[0])
    return parser.parse_args_into_dataclasses(argv)


def main(argv=None) -> None:
    model_args, data_args, run_args = parse(sys.argv[1:] if argv is None else argv)
    try:
        train(model_args, data_args, run_args)
    except ValueError as error:  # a bad argument: say which, without a traceback
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
