"""Push a finished training folder to the Hub: exactly the files a model repo needs.

    python scripts/push_to_hub.py runs/cisformer-ea user/iarc-cisformer-ea [--private]

Pushed: the weights, config.json, the remote-code files, README.md, training_args.json,
all_results.json, metrics.jsonl and training_curve.png. Checkpoints (`checkpoint-*`) and
any other file stay local. Without a token or network this fails with a
clear message and leaves the folder as it was.
"""

import argparse

from iarc_hf.hub.push import HubPushError, push_model_folder


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder")
    parser.add_argument("repo_id")
    parser.add_argument("--private", action="store_true")
    args = parser.parse_args(argv)
    try:
        print(f"pushed to {push_model_folder(args.folder, args.repo_id, private=args.private)}")
    except HubPushError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
