"""Benchmark catalog.oshash against pan.do/ra's ox.oshash(cached=False).

Makes N files of random bytes (sizes log-uniform between --min-size and --max-size, so
about half are under the 64 KiB where the two algorithms do the least work), reads them
once so both runs hit the page cache, then reports files/s for each implementation,
the speed ratio, and whether every hash is identical. Exits 1 on any mismatch.

    .venv/bin/python bench/bench_oshash.py                 # 2000 files, 1 KiB .. 2 MiB
    .venv/bin/python bench/bench_oshash.py --files 500 --repeat 1
"""

import argparse
import math
import os
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 65536


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--min-size", type=int, default=1024)
    parser.add_argument("--max-size", type=int, default=2 * 1024 * 1024)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-oshash-") as tmp:
        # ox creates its cache on import; keep it out of the home directory.
        os.environ["oxCACHE"] = os.path.join(tmp, "ox-cache")  # noqa: SIM112 (ox spells it so)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import ox

        from catalog.oshash import oshash

        paths = make_files(Path(tmp), args.files, args.min_size, args.max_size, args.seed)
        small = sum(1 for path in paths if path.stat().st_size < CHUNK)
        total = sum(path.stat().st_size for path in paths)
        print(
            f"{len(paths)} files, {total / 1024**2:.0f} MiB "
            f"({small} under 64 KiB), page-cached, best of {args.repeat}"
        )

        fast_seconds, fast = best_of(args.repeat, oshash, paths)
        ox_seconds, reference = best_of(
            args.repeat, lambda p: ox.oshash(str(p), cached=False), paths
        )

        mismatches = [p.name for p, a, b in zip(paths, fast, reference, strict=True) if a != b]
        print(f"catalog.oshash        {len(paths) / fast_seconds:12,.0f} files/s")
        print(f"ox.oshash(cached=False) {len(paths) / ox_seconds:10,.0f} files/s")
        print(f"speed-up              {ox_seconds / fast_seconds:12,.1f}x")
        print(f"identical hashes      {len(paths) - len(mismatches):>12,} / {len(paths):,}")
        if mismatches:
            print("MISMATCH:", ", ".join(mismatches[:10]))
            return 1
    return 0


def make_files(folder: Path, count: int, low: int, high: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    paths = []
    for number in range(count):
        size = round(math.exp(rng.uniform(math.log(low), math.log(high))))
        path = folder / f"{number:05d}.bin"
        path.write_bytes(rng.randbytes(size))
        paths.append(path)
    for path in paths:
        path.read_bytes()  # into the page cache, so the runs time hashing, not the disk
    return paths


def best_of(
    repeat: int, function: Callable[[Path], str], paths: list[Path]
) -> tuple[float, list[str]]:
    best, hashes = math.inf, []
    for _ in range(repeat):
        started = time.perf_counter()
        hashes = [function(path) for path in paths]
        best = min(best, time.perf_counter() - started)
    return best, hashes


if __name__ == "__main__":
    sys.exit(main())
