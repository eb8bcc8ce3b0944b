"""Delimited parsing throughput: medlake vs DuckDB's read_csv vs pyarrow.csv vs the plain-split floor.

Writes a synthetic file (default ~50 MB, 12 columns, some quoted fields), parses it with each
contender in one run, and prints MB/s and ratios. Usage:

    python benchmarks/bench_delimited.py [--mb 50] [--delimiter '|']
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def make_file(path: Path, mb: int, delimiter: str) -> int:
    rng = random.Random(7)
    cols = ["id", "mrn", "family", "given", "birth_date", "sex", "address", "city", "state", "zip", "phone", "note"]
    size = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        if len(delimiter) == 1:
            w = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
            w.writerow(cols)
        else:
            fh.write(delimiter.join(cols) + "\n")
        i = 0
        while size < mb * 1_000_000:
            row = [
                str(i), f"MRN{i:08d}", rng.choice(["Smith", "Nguyen", "García", "O'Brien"]),
                rng.choice(["Ann", "Bob", "Zoë"]), f"19{rng.randint(30, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                rng.choice("MF"), f"{rng.randint(1, 9999)} Main St", "Springfield", "IL", f"{rng.randint(10000, 99999)}",
                f"555-{rng.randint(1000, 9999)}", rng.choice(["", "ok", "said \"hi\", left", "multi word note"]),
            ]
            if len(delimiter) == 1:
                buf = io.StringIO()
                csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(row)
                line = buf.getvalue()
            else:
                line = delimiter.join(row) + "\n"
            fh.write(line)
            size += len(line)
            i += 1
    return i


def timed(fn: Callable[[], int], repeat: int = 3) -> tuple[float, int]:
    best, rows = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        rows = fn()
        best = min(best, time.perf_counter() - t0)
    return best, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--delimiter", default=",")
    args = ap.parse_args()
    import duckdb
    import pyarrow.csv as pcsv

    from medlake.formats.delimited import DelimitedOptions, parse_delimited

    d = args.delimiter
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.txt"
        n = make_file(path, args.mb, d)
        data = path.read_bytes()
        mb = len(data) / 1e6

        def medlake() -> int:
            return int(parse_delimited(data, DelimitedOptions(delimiter=d)).table.num_rows)

        def duck() -> int:
            con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
            q = f"select count(*) from read_csv('{path}', delim='{d}', header=true, all_varchar=true, quote='\"')"
            # materialize the rows (not just count them) so the comparison is fair
            t = con.sql(q.replace("count(*)", "*")).to_arrow_table()
            return int(t.num_rows)

        def arrow() -> int:
            opts = pcsv.ParseOptions(delimiter=d) if len(d) == 1 else None
            conv = pcsv.ConvertOptions(column_types=None, strings_can_be_null=True)
            t = pcsv.read_csv(path, parse_options=opts, convert_options=conv)
            return int(t.num_rows)

        def plain_split() -> int:
            text = data.decode("utf-8")
            rows = [line.split(d) for line in text.split("\n") if line]
            return len(rows) - 1

        results: dict[str, float] = {}
        contenders: list[tuple[str, Callable[[], int]]] = [
            ("medlake parse_delimited", medlake),
            ("duckdb read_csv (all_varchar)", duck),
            ("plain str.split floor", plain_split),
        ]
        if len(d) == 1:
            contenders.insert(2, ("pyarrow.csv", arrow))
        print(f"file: {mb:,.1f} MB, {n:,} rows, delimiter {d!r}")
        for name, fn in contenders:
            secs, rows = timed(fn)
            results[name] = secs
            print(f"{name:<32} {secs:7.3f} s  {mb / secs:8.1f} MB/s  {rows:,} rows")
        base = results["medlake parse_delimited"]
        print("ratios (medlake time / other time; >1 means medlake is slower):")
        for name, secs in results.items():
            if name != "medlake parse_delimited":
                print(f"  vs {name:<30} {base / secs:6.2f}x")


if __name__ == "__main__":
    main()
