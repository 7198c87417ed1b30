"""Speed of generation (eval mode, inference mode) against the training step and the CPU's matmul rate.

Everything is measured side by side in one run (the machine is noisy: compare ratios, not times), with a
freshly initialised generator of the paper's widths built as the trainer builds it:
- generated images/s at batch 1 and at each of the batch sizes given, and which is best;
- the training step's images/s at batch 1 (train_step.StepRunner): generation is N x faster per image;
- achieved GFLOP/s of the generator's forward (FLOPs counted by torch.utils.flop_counter) over the GFLOP/s
  of a 2048x2048 fp32 matmul;
- generation with bf16 autocast at the best batch size, over fp32.
The last line is one JSON object.
Usage: python benchmarks/generate.py [--size 256] [--batches 1,2,4,8,16] [--steps 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dermgan.models import init_weights
from dermgan.training.release import build_generator
from train_step import MAP_CHANNELS, StepRunner, config_for, images_per_second, matmul_gflops


class GenerateRunner:
    """The generator on a fixed random batch of maps; `run(n)` times n forwards after one warm-up forward."""

    def __init__(self, generator: nn.Module, size: int, batch: int, bf16: bool = False):
        self.generator = generator
        self.maps = torch.rand(batch, MAP_CHANNELS, size, size).mul(2).sub(1)
        self.batch = batch
        self.bf16 = bf16
        self.run(1)

    @torch.inference_mode()
    def run(self, forwards: int) -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            start = time.perf_counter()
            for _ in range(forwards):
                self.generator(self.maps)
            return time.perf_counter() - start

    def flops_per_image(self) -> float:
        """Per image at this batch: the resize-conv's form, and so the count, depends on the batch."""
        with FlopCounterMode(display=False) as counter:
            self.run(1)
        return counter.get_total_flops() / self.batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batches", default="1,2,4,8,16", help="generation batch sizes to try")
    parser.add_argument("--steps", type=int, default=2, help="forwards (or training steps) per timing")
    parser.add_argument("--repeats", type=int, default=3, help="timings per variant (median)")
    args = parser.parse_args()
    size, batches = args.size, sorted({1, *(int(b) for b in args.batches.split(","))})
    torch.manual_seed(0)
    generator = init_weights(build_generator(config_for(size, 1), MAP_CHANNELS)).eval()

    runners: dict[str, GenerateRunner | StepRunner] = {
        f"batch {batch}": GenerateRunner(generator, size, batch) for batch in batches
    }
    runners["train"] = StepRunner(config_for(size, 1))
    speeds = images_per_second(runners, args.steps, args.repeats)
    train = speeds.pop("train")
    best_batch = max(batches, key=lambda batch: speeds[f"batch {batch}"])
    best, single = speeds[f"batch {best_batch}"], speeds["batch 1"]
    print(f"generation at {size} px, fp32, {torch.get_num_threads()} threads, eval mode, inference mode:")
    for name, speed in speeds.items():
        print(f"  {name:>9}: {speed:7.2f} img/s")
    print(
        f"training step at batch 1: {train:.2f} img/s; generation is {single / train:.1f}x faster per image "
        f"at batch 1, {best / train:.1f}x at batch {best_batch} (the best)"
    )

    flops = runners[f"batch {best_batch}"].flops_per_image()
    matmul = matmul_gflops()
    achieved = flops * best / 1e9
    print(
        f"generator forward: {flops / 1e9:.1f} GFLOP per image at batch {best_batch}, "
        f"{achieved:.1f} GFLOP/s; fp32 matmul {matmul:.1f} GFLOP/s (ratio {achieved / matmul:.2f})"
    )

    bf16_runners = {
        "fp32": runners[f"batch {best_batch}"],
        "bf16": GenerateRunner(generator, size, best_batch, bf16=True),
    }
    precision = images_per_second(bf16_runners, args.steps, args.repeats)
    bf16_speedup = precision["bf16"] / precision["fp32"]
    print(
        f"bf16 autocast at batch {best_batch}: {precision['bf16']:.2f} img/s against fp32 "
        f"{precision['fp32']:.2f} img/s timed in turns with it ({bf16_speedup:.2f}x)"
    )

    result = {
        "threads": torch.get_num_threads(),
        f"generate_ips_{size}": best,
        f"generate_ips_{size}_batch1": single,
        "best_batch": best_batch,
        f"train_ips_{size}": train,
        "speedup_vs_train_step_batch1": single / train,
        "speedup_vs_train_step": best / train,
        "generate_gflop_per_image": flops / 1e9,
        "matmul_gflops": matmul,
        "gflops_ratio_vs_matmul": achieved / matmul,
        "bf16_speedup": bf16_speedup,
    }
    print(
        json.dumps(
            {key: round(value, 3) if isinstance(value, float) else value for key, value in result.items()}
        )
    )


if __name__ == "__main__":
    main()
