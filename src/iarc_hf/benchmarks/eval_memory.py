"""Peak memory of `scripts/evaluate.py` against --size: streamed evaluation stays flat.

Each size runs in a fresh process (its own peak RSS, read with `os.wait4`), on a small
untrained model saved to a temporary folder (or --model). For contrast, `--one_shot` also
measures the way before streaming: the whole split generated, then scored at once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from iarc_hf.cli_checks import positive_int, writable_path_problem
from iarc_hf.files import write_json

REPO = Path(__file__).resolve().parents[3]
ONE_SHOT = """
import sys
from iarc_hf.eval.evaluation import evaluate_model, load_for_evaluation, task_for_model
from iarc_hf.data.generator import generate_split
model, trained = load_for_evaluation(sys.argv[1])
task = task_for_model(model.config, trained, sys.argv[2])
batch = generate_split(task, "test", int(sys.argv[3]), 0)
evaluate_model(model, task, batch, int(sys.argv[4]))
"""


def save_small_model(folder: Path, config: str) -> None:
    """A 2-layer cisformer-ea, untrained: memory depends on the windows, not on the weights."""
    import torch

    from iarc_hf.configuration_iarc import IARCConfig
    from iarc_hf.data.tasks import IARCTask
    from iarc_hf.modeling_iarc import IARCModel

    task = IARCTask(config)
    model_config = IARCConfig.from_preset("cisformer-ea", num_hidden_layers=2).for_task(
        task.n_symbols, task.n_controls, task.context_length, task.encoding
    )
    torch.manual_seed(0)
    IARCModel(model_config).save_pretrained(folder)


def peak_rss_mib(command: list[str]) -> tuple[float, float]:
    """(peak resident memory in MiB, seconds) of `command` run to the end in a fresh process."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not all children's
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{command} failed ({process.returncode}):\n{tail}")
    return usage.ru_maxrss / 1024, seconds  # Linux reports KiB


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", type=positive_int, default=[10_000, 200_000])
    parser.add_argument("--dataset_config", default="IARC")
    parser.add_argument("--batch_size", type=positive_int, default=1000)
    parser.add_argument("--model", help="a saved model folder (default: a small untrained one)")
    parser.add_argument("--one_shot", action="store_true", help="also measure the whole split")
    parser.add_argument("--out", default="results/bench/eval_memory.json")
    args = parser.parse_args(argv)
    if problem := writable_path_problem(args.out, "file"):
        parser.error(f"argument --out: {problem}")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or str(Path(scratch) / "model")
        if not args.model:
            save_small_model(Path(model), args.dataset_config)
        print(f"evaluate.py peak RSS, {args.dataset_config}, batch {args.batch_size}, one process")
        print(f"{'way':<10} {'windows':>9} {'peak MiB':>9} {'seconds':>8}")
        for way in ("streamed", "one_shot") if args.one_shot else ("streamed",):
            for size in args.sizes:
                rss, seconds = peak_rss_mib(_command(way, model, args, size))
                rows.append({"way": way, "size": size, "peak_rss_mib": rss, "seconds": seconds})
                print(f"{way:<10} {size:>9,} {rss:>9.0f} {seconds:>8.1f}")
    write_json(args.out, {"model": args.model or "untrained cisformer-ea, 2 layers", "runs": rows})
    print(f"wrote {args.out}")
    return rows


def _command(way: str, model: str, args, size: int) -> list[str]:
    if way == "streamed":
        script = str(REPO / "scripts" / "evaluate.py")
        flags = ["--dataset_config", args.dataset_config, "--batch_size", str(args.batch_size)]
        return [sys.executable, script, model, *flags, "--size", str(size)]
    extra = [args.dataset_config, str(size), str(args.batch_size)]
    return [sys.executable, "-c", ONE_SHOT, model, *extra]
