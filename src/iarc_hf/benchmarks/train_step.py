"""Training-step throughput per preset (batch 200, L=24): tokens/s and achieved GFLOP/s, next to
a plain torch.matmul, a straightforward eager reference (naive.py) and x-transformers, all
measured in the same run. The implementations of a preset are timed in interleaved rounds (one
step each per round, median over rounds), so that a change in the machine's load hits all alike.

FLOPs are counted with torch.utils.flop_counter.FlopCounterMode over one training step
(forward + backward) of each implementation: the matmul-type operations it actually runs.
"""

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from iarc_hf.benchmarks.matmul_floor import record_matmuls, replay
from iarc_hf.benchmarks.naive import naive_for
from iarc_hf.configuration_iarc import PRESETS, IARCConfig
from iarc_hf.modeling_iarc import IARCModel

# The models the speed goal is about (12-layer cisformer, 60-layer transformer), with the
# attention variants the naive reference is written for.
REFERENCE_PRESETS = ("cisformer-dpa", "cisformer-ea", "transformer-dpa", "transformer-ea")


def random_batch(config: IARCConfig, batch_size: int, device: str) -> dict:
    shape = (batch_size, config.context_length)
    return {
        "input_ids": torch.randint(0, config.n_symbols, shape, device=device),
        "control_ids": torch.randint(0, config.n_controls + 1, shape, device=device),
        "labels": torch.randint(0, config.n_symbols, shape, device=device),
    }


def training_step(
    model: torch.nn.Module, loss_fn: Callable[[], torch.Tensor]
) -> Callable[[], None]:
    """One step as in the paper's training: SGD, lr 0.02, momentum 0.8."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.8)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn().backward()
        optimizer.step()

    return step


def count_flops(model: torch.nn.Module, step: Callable[[], None], tokens: int) -> int:
    """FlopCounterMode over one step; torch's fused LSTM kernel is invisible to it, so an LSTM's
    matmuls are added analytically: 2 FLOPs per weight per token forward, 4 backward."""
    with FlopCounterMode(display=False) as counter:
        step()
    lstm_weights = sum(
        p.numel()
        for module in model.modules()
        if isinstance(module, torch.nn.LSTM)
        for name, p in module.named_parameters()
        if name.startswith("weight")
    )
    return counter.get_total_flops() + 6 * tokens * lstm_weights


def seconds_per_call(
    fn: Callable[[], None], calls: int, warmup: int = 2, device: str = "cpu"
) -> float:
    """Median over calls: robust to other processes sharing the machine."""
    return interleaved_seconds([fn], calls, warmup, device)[0]


def interleaved_seconds(
    fns: list[Callable[[], None]], rounds: int, warmup: int = 2, device: str = "cpu"
) -> list[float]:
    """Median seconds per call of each fn, timed one call each per round, round after round."""
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, series in zip(fns, times, strict=True):
            sync()
            start = time.perf_counter()
            fn()
            sync()
            series.append(time.perf_counter() - start)
    return [statistics.median(series) for series in times]


def row(name: str, implementation: str, model, flops: int, tokens: int, seconds: float) -> dict:
    return {
        "model": name,
        "implementation": implementation,
        "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "ms_per_step": 1e3 * seconds,
        "tokens_per_s": tokens / seconds,
        "gflop_per_step": flops / 1e9,
        "gflop_per_s": flops / seconds / 1e9 if flops else float("nan"),
    }


def ours(preset: str, batch_size: int, device: str, compile: bool):
    config = IARCConfig.from_preset(preset)
    model = IARCModel(config).to(device).train()
    forward = model
    if compile:
        try:
            forward = torch.compile(model)
        except Exception as error:  # compile is optional: fall back to eager, say so
            print(f"torch.compile unavailable ({error}); measuring eager")
    batch = random_batch(config, batch_size, device)
    return config, model, training_step(model, lambda: forward(**batch).loss), batch


def naive(config: IARCConfig, batch: dict, device: str):
    model = naive_for(config).to(device).train()
    return model, training_step(model, lambda: model(**batch))


def x_transformers(config: IARCConfig, batch: dict, device: str):
    """x-transformers with the same transformer shape: pre-norm, ALiBi, heads, depth, FFN."""
    try:
        from x_transformers import ContinuousTransformerWrapper, Decoder
    except ImportError:
        return None
    d = config.hidden_size
    model = ContinuousTransformerWrapper(
        dim_in=d,
        dim_out=config.n_symbols,
        max_seq_len=config.context_length,
        use_abs_pos_emb=False,
        attn_layers=Decoder(
            dim=d,
            depth=config.num_hidden_layers,
            heads=config.num_attention_heads,
            attn_dim_head=d // config.num_attention_heads,
            ff_mult=config.ffn_expansion,
            alibi_pos_bias=True,
        ),
    ).to(device)
    inputs = torch.cat(
        [
            torch.nn.functional.one_hot(batch["input_ids"], config.n_symbols),
            torch.nn.functional.one_hot(batch["control_ids"], config.n_controls + 1)[..., 1:],
        ],
        dim=-1,
    ).float()

    def loss():
        logits = model(inputs)
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch["labels"].flatten())

    return model, training_step(model, loss)


def matmul_reference(batch_size: int, steps: int, device: str) -> list[dict]:
    """Plain torch.matmul: the model's commonest shape (tokens x 20 @ 20 x 80), and a large one."""
    rows = []
    for m, k, n in ((batch_size * 24, 20, 80), (2048, 2048, 2048)):
        a, b = torch.randn(m, k, device=device), torch.randn(k, n, device=device)
        calls = 100 if m * k * n < 10**8 else max(steps, 3)  # the small one: many, it is cheap
        seconds = seconds_per_call(lambda a=a, b=b: torch.matmul(a, b), calls, device=device)
        rows.append(
            {
                "model": f"matmul {m}x{k}x{n}",
                "implementation": "torch.matmul",
                "params": None,
                "ms_per_step": 1e3 * seconds,
                "tokens_per_s": float("nan"),
                "gflop_per_step": 2 * m * k * n / 1e9,
                "gflop_per_s": 2 * m * k * n / seconds / 1e9,
            }
        )
    return rows


def bench_train_steps(
    presets=tuple(PRESETS),
    batch_size: int = 200,
    steps: int = 10,
    device: str = "cpu",
    compile: bool = False,
    references: bool = True,
) -> list[dict]:
    """One row per (preset, implementation), plus torch.matmul rows, measured in this run."""
    torch.manual_seed(0)
    rows = matmul_reference(batch_size, steps, device)
    for preset in presets:
        config, model, step, batch = ours(preset, batch_size, device, compile)
        candidates = [("iarc (compiled)" if compile else "iarc", model, step)]
        if references and preset in REFERENCE_PRESETS:
            candidates.append(("matmul floor", model, replay(record_matmuls(step), device)))
            candidates.append(("naive eager", *naive(config, batch, device)))
            # x-transformers has softmax attention and shared (not position-wise) layers only
            if config.attention == "dpa" and not config.position_wise:
                xt = x_transformers(config, batch, device)
                if xt is None:
                    print("x-transformers is not installed (pip install 'iarc-hf[bench]')")
                else:
                    candidates.append(("x-transformers", *xt))
        tokens = batch_size * config.context_length
        flops = [count_flops(m, s, tokens) for _, m, s in candidates]
        seconds = interleaved_seconds([s for *_, s in candidates], steps, device=device)
        for (label, m, _), f, sec in zip(candidates, flops, seconds, strict=True):
            rows.append(row(preset, label, m, f, tokens, sec))
    return rows


def format_table(rows: list[dict]) -> str:
    header = f"{'model':<22} {'implementation':<16} {'params':>9} {'ms/step':>9} {'tokens/s':>10} {'GFLOP/step':>10} {'GFLOP/s':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        params = "" if r["params"] is None else f"{r['params']:,}"
        tokens = "" if r["tokens_per_s"] != r["tokens_per_s"] else f"{r['tokens_per_s']:,.0f}"
        lines.append(
            f"{r['model']:<22} {r['implementation']:<16} {params:>9} {r['ms_per_step']:>9.1f} "
            f"{tokens:>10} {r['gflop_per_step']:>10.2f} {r['gflop_per_s']:>8.1f}"
        )
    return "\n".join(lines)


def speedups(rows: list[dict]) -> list[str]:
    """Ours vs each reference on the same preset, as tokens/s ratios."""
    out = []
    for preset in REFERENCE_PRESETS:
        by_impl = {r["implementation"]: r["tokens_per_s"] for r in rows if r["model"] == preset}
        base = next((v for k, v in by_impl.items() if k.startswith("iarc")), None)
        for impl, value in by_impl.items():
            if base and not impl.startswith("iarc") and impl != "matmul floor":
                out.append(f"{preset}: iarc is {base / value:.2f}x the tokens/s of {impl}")
        if "matmul floor" in by_impl and "naive eager" in by_impl:
            bound = by_impl["matmul floor"] / by_impl["naive eager"]
            out.append(
                f"{preset}: iarc's matrix products alone (matmul floor) run at {bound:.2f}x the "
                "naive tokens/s: the most any fusion of the rest of the step can reach"
            )
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--batch_size", type=int, default=200)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile our model (optional)")
    parser.add_argument(
        "--no_references", action="store_true", help="skip naive and x-transformers"
    )
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device {args.device}, {torch.get_num_threads()} thread(s), torch {torch.__version__}")
    rows = bench_train_steps(
        args.presets, args.batch_size, args.steps, args.device, args.compile, not args.no_references
    )
    print(format_table(rows))
    for line in speedups(rows):
        print(line)
    if args.output:
        import platform

        from iarc_hf.files import write_json

        write_json(args.output, {
            "device": args.device, "threads": torch.get_num_threads(), "steps": args.steps,
            "batch_size": args.batch_size, "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(),
            "command": "python scripts/bench.py train-step " + " ".join(argv or []),
            "rows": rows, "speedups": speedups(rows),
        })  # fmt: skip
    return rows


def train_step_markdown(record: dict, name: str = "") -> str:
    """A JSON written by `--output` as a markdown table (the docs' performance page)."""
    lines = [
        f"`{name}`: {record['device']}, {record['threads']} thread(s), batch "
        f"{record['batch_size']}, median of {record['steps']} steps, torch {record['torch']}, "
        f"{record['machine']}; `{record['command']}`",
        "",
        "| model | implementation | params | ms/step | tokens/s | GFLOP/s |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in record["rows"]:
        params = "" if r["params"] is None else f"{r['params']:,}"
        tokens, gflops = r["tokens_per_s"], r["gflop_per_s"]  # None or NaN: not measured
        tokens = "" if tokens is None or tokens != tokens else f"{tokens:,.0f}"
        gflops = "" if gflops is None or gflops != gflops else f"{gflops:.1f}"
        lines.append(f"| {r['model']} | {r['implementation']} | {params} | "
                     f"{r['ms_per_step']:.1f} | {tokens} | {gflops} |")  # fmt: skip
    lines += ["", *(f"- {line}" for line in record.get("speedups", []))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
