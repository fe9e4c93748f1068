"""Publish the IARC explorer as a Gradio Space: `spaces/explorer/` plus the `iarc_hf` package.

    python scripts/push_space.py user/iarc-explorer [--private] [--folder build/space]

The folder that is uploaded is assembled first (`--folder`), so it can be inspected or run
(`cd build/space && python app.py`). Without a token or network this fails with a clear message.
"""

import argparse
from pathlib import Path

from iarc_hf.hub.push import HubPushError
from iarc_hf.hub.space import build_space_folder, push_space

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo_id")
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--folder", default=str(REPO / "build" / "space"))
    args = parser.parse_args(argv)
    try:
        folder = build_space_folder(REPO / "spaces" / "explorer", args.folder)
        print(f"assembled {folder}")
        print(f"pushed to {push_space(folder, args.repo_id, private=args.private)}")
    except HubPushError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
