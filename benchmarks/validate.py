"""How `data validate` scales: row checks on a large manifest, and image checks in worker processes.

Prints times and ratios measured side by side in one run (the machine is noisy; compare ratios):
  row checks of N rows vs merely parsing the CSV, and decoding images with 1 worker vs all cores.
Usage: python benchmarks/validate.py [--rows 100000] [--images 400]
"""

from __future__ import annotations

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path

from dermgan.data.manifest import write_manifest
from dermgan.data.validate import validate_manifest
from dermgan.parallel import default_workers


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def count_csv_rows(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def big_manifest(folder: Path, rows: int) -> Path:
    conditions = [f"condition {k}" for k in range(26)]
    return write_manifest(
        folder / "big.csv",
        [
            {
                "image": f"images/{k:07d}.jpg",
                "condition": conditions[k % 26],
                "skin_type": str(k % 6 + 1),
                "boxes": f"[[{k % 50},{k % 40},{k % 50 + 30},{k % 40 + 20}]]",
                "case_id": f"case{k // 3}",
                "license": "CC BY 4.0",
            }
            for k in range(rows)
        ],
    )


def image_manifest(folder: Path, images: int) -> Path:
    from dermgan.data.phantom import make_phantom

    make_phantom(folder / "phantom", images, seed=0, progress=False)
    return folder / "phantom" / "manifest.csv"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        manifest = big_manifest(Path(folder), args.rows)
        parse = timed(lambda: count_csv_rows(manifest))
        rows = timed(lambda: validate_manifest(manifest, check_image_files=False, progress=False))
        print(
            f"row checks, {args.rows:,} rows: {rows:.2f} s ({args.rows / rows:,.0f} rows/s); "
            f"{rows / parse:.1f}x the time of parsing the CSV alone ({parse:.2f} s)"
        )
        photos = image_manifest(Path(folder), args.images)
        workers = default_workers()
        serial = timed(lambda: validate_manifest(photos, workers=1, progress=False))
        parallel = timed(lambda: validate_manifest(photos, workers=workers, progress=False))
        print(
            f"image checks, {args.images} phantom photos: 1 worker {serial:.2f} s, {workers} workers "
            f"{parallel:.2f} s: {serial / parallel:.2f}x faster on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
