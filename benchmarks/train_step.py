"""Speed of a DermGAN training step against the pix2pix step, the CPU's matmul rate and the data loader.

Everything is measured side by side in one run (the machine is noisy: compare ratios, not times):
- images/s of one training step (D update + G update) for DermGAN (resize-conv, GAN + L1 + ROI L1 +
  feature matching) and for the pix2pix baseline (transposed conv, GAN + L1) at each size, all else equal;
- achieved GFLOP/s of the DermGAN step (FLOPs counted by torch.utils.flop_counter) over the GFLOP/s of a
  large fp32 matmul;
- the data loader's images/s at the largest size (the config's default worker count) over the step's images/s;
- the DermGAN step with bf16 autocast, with channels_last, with noise at every decoder level
  (model.noise_resolutions) and with torch.compile, each over the plain one.
The last line is one JSON object.
Usage: python benchmarks/train_step.py [--sizes 64,128,256] [--batch-size 1] [--repeats 3] [--no-compile]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode

from dermgan.data.dataset import PreparedPairs
from dermgan.data.phantom import make_phantom
from dermgan.data.prepare import prepare_dataset
from dermgan.models import noise_resolutions_for
from dermgan.training.config import Config, TrainConfig, load_config
from dermgan.training.networks import Networks
from dermgan.training.stream import SampleStream, StepBatches

PIX2PIX = ("model.upsample=transposed", "loss.lambda_roi=0", "loss.lambda_fm=0")
MAP_CHANNELS = 3


def config_for(size: int, batch: int, *overrides: str) -> Config:
    return load_config(
        "paper", [f"data.size={size}", f"train.batch_size={batch}", "train.channels_last=false", *overrides]
    )


class StepRunner:
    """A built step with a fixed random batch; `seconds(n)` times n steps after it was warmed up."""

    def __init__(self, config: Config):
        torch.manual_seed(0)
        self.networks = Networks.build(config, MAP_CHANNELS, torch.device("cpu"))
        self.step = self.networks.gan_step(config, torch.device("cpu"))
        size, batch, layout = config.data.size, config.train.batch_size, self.networks.memory_format
        self.maps = torch.rand(batch, MAP_CHANNELS, size, size).mul(2).sub(1).contiguous(memory_format=layout)
        self.images = torch.rand(batch, 3, size, size).mul(2).sub(1).contiguous(memory_format=layout)
        self.roi = torch.zeros(batch, 1, size, size)
        self.roi[..., size // 4 : size // 2, size // 4 : size // 2] = 1
        self.batch = batch
        self.run(2)

    def run(self, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            self.step(self.maps, self.images, self.roi)
        return time.perf_counter() - start

    def flops(self) -> int:
        with FlopCounterMode(display=False) as counter:
            self.run(1)
        return counter.get_total_flops()


def images_per_second(runners: dict[str, StepRunner], steps: int, repeats: int) -> dict[str, float]:
    """Median images/s of each runner, timed in turns (ABAB...) so drifts of the machine hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, runner in runners.items():
            times[name].append(runner.run(steps) / steps)
    return {name: runners[name].batch / statistics.median(values) for name, values in times.items()}


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def loader_images_per_second(prepared: Path, size: int, workers: int, images: int = 96) -> float:
    stream = SampleStream(PreparedPairs(prepared, "train", size=size), seed=0, flip=True)
    batches = StepBatches(0, images, global_batch=1)
    loader = DataLoader(stream, batch_sampler=batches, num_workers=workers)
    start = time.perf_counter()
    for _ in loader:
        pass
    return images / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128,256")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--steps", type=int, default=2, help="steps per timing")
    parser.add_argument("--repeats", type=int, default=3, help="timings per variant (median)")
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (slow to warm up)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    largest, batch = max(sizes), args.batch_size
    result: dict[str, float | str] = {"batch_size": batch, "threads": torch.get_num_threads()}

    for size in sizes:
        runners = {
            "dermgan": StepRunner(config_for(size, batch)),
            "pix2pix": StepRunner(config_for(size, batch, *PIX2PIX)),
        }
        speeds = images_per_second(runners, args.steps, args.repeats)
        ratio = speeds["dermgan"] / speeds["pix2pix"]
        print(
            f"{size:>4} px  dermgan {speeds['dermgan']:7.2f} img/s  pix2pix {speeds['pix2pix']:7.2f} img/s  "
            f"ratio {ratio:.2f}"
        )
        result |= {f"dermgan_ips_{size}": speeds["dermgan"], f"pix2pix_ips_{size}": speeds["pix2pix"]}
        if size == largest:
            flops = {name: runner.flops() for name, runner in runners.items()}
            matmul = matmul_gflops()
            achieved = flops["dermgan"] * speeds["dermgan"] / batch / 1e9
            print(
                f"GFLOP per step: dermgan {flops['dermgan'] / 1e9:.1f}, "
                f"pix2pix {flops['pix2pix'] / 1e9:.1f}; "
                f"dermgan achieves {achieved:.1f} GFLOP/s, fp32 matmul {matmul:.1f} GFLOP/s "
                f"(ratio {achieved / matmul:.2f})"
            )
            result |= {
                "dermgan_gflop_per_step": flops["dermgan"] / 1e9,
                "pix2pix_gflop_per_step": flops["pix2pix"] / 1e9,
                "gflops_ratio_vs_matmul": achieved / matmul,
            }
            variants = {
                "fp32": runners["dermgan"],
                "bf16": StepRunner(config_for(size, batch, "train.precision=bf16")),
                "channels_last": StepRunner(config_for(size, batch, "train.channels_last=true")),
                "noise": StepRunner(
                    config_for(size, batch, f"model.noise_resolutions={noise_resolutions_for(size)}")
                ),
            }
            if not args.no_compile:
                variants["compile"] = StepRunner(config_for(size, batch, "train.compile=true"))
            speeds = images_per_second(variants, args.steps, args.repeats)
            for name in variants:
                if name != "fp32":
                    speedup = speeds[name] / speeds["fp32"]
                    print(f"{name:>13}: {speeds[name]:.2f} img/s, {speedup:.2f}x the fp32 step")
                    result[f"{name}_speedup"] = speedup

    workers = TrainConfig().num_workers
    with tempfile.TemporaryDirectory() as folder:
        make_phantom(Path(folder) / "photos", n=48, seed=0, progress=False)
        prepare_dataset(
            Path(folder) / "photos" / "manifest.csv",
            Path(folder) / "prepared",
            size=largest,
            crops_per_group=2,
            progress=False,
        )
        loader = loader_images_per_second(Path(folder) / "prepared", largest, workers)
    ratio = loader / result[f"dermgan_ips_{largest}"]
    print(
        f"loader at {largest} px with {workers} workers: {loader:.1f} img/s = {ratio:.1f}x the training step"
    )
    result[f"loader_ratio_{largest}"] = ratio
    print(
        json.dumps(
            {key: round(value, 3) if isinstance(value, float) else value for key, value in result.items()}
        )
    )


if __name__ == "__main__":
    main()
