"""Train an IARC model with accelerate, then evaluate, save and (optionally) push it.

    accelerate launch scripts/train.py --output_dir runs/cisformer-ea --preset cisformer-ea
    accelerate launch scripts/train.py --output_dir runs/t --preset transformer-ea \
        --dataset_config IA --num_hidden_layers 12 --optimizer adamw --learning_rate 1e-3
    accelerate launch scripts/train.py --output_dir runs/best --preset cisformer-dpa-best \
        --recipe best-dpa                           # a named recipe; later flags override it
    accelerate launch scripts/train.py config.yaml          # the same arguments from a file

Arguments are those of `iarc_hf.training.arguments` (`--help` lists them all); on one CPU,
`python scripts/train.py ...` works too.
"""

import sys

from transformers import HfArgumentParser

from iarc_hf.experiments.registry import RECIPES
from iarc_hf.training.arguments import DataArguments, ModelArguments, RunArguments
from iarc_hf.training.loop import train


def parse(argv: list[str]):
    parser = HfArgumentParser((ModelArguments, DataArguments, RunArguments))
    if len(argv) == 1 and argv[0].endswith(".json"):
        return parser.parse_json_file(argv[0])
    if len(argv) == 1 and argv[0].endswith((".yaml", ".yml")):
        return parser.parse_yaml_file(argv[0])
    argv, recipe = take_recipe(argv)
    if recipe is not None:
        parser.set_defaults(**RECIPES[recipe])  # explicit flags still win
    return parser.parse_args_into_dataclasses(argv)


def take_recipe(argv: list[str]) -> tuple[list[str], str | None]:
    """`--recipe NAME` out of argv: a named optimizer + schedule of
    `iarc_hf.experiments.registry.RECIPES`."""
    rest, recipe, args = [], None, iter(argv)
    for arg in args:
        if arg == "--recipe":
            recipe = next(args, "")
        elif arg.startswith("--recipe="):
            recipe = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if recipe is not None and recipe not in RECIPES:
        raise ValueError(f"--recipe must be one of {tuple(RECIPES)}, got {recipe!r}")
    return rest, recipe


def main(argv=None) -> None:
    try:
        model_args, data_args, run_args = parse(sys.argv[1:] if argv is None else argv)
        train(model_args, data_args, run_args)
    except ValueError as error:  # a bad argument: say which, without a traceback
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
