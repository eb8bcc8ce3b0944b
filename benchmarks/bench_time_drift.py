"""Cost of the time classification and of the schema-drift check, as ratios to what they sit beside.

1. Time: `parse_datetime` over N distinct local timestamps (cold cache, with a time-adjustment
   collector open, as in the silver stage) vs the conversion it replaced (the same text parsing,
   then `replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)` + formatting, unclassified).
2. Drift: inferring the types of a delimited file and comparing it with a registered schema
   (`medlake.bronze.drift`) vs parsing the same bytes (`parse_delimited`), which bronze does anyway.

Prints numbers and ratios; asserts nothing. Usage:

    python benchmarks/bench_time_drift.py [--times 200000] [--rows 200000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def bench_time(n: int) -> None:
    from medlake.silver.mappings.local_time import collect_time_adjustments, to_utc
    from medlake.silver.mappings.values import DEFAULT_FORMATS, _datetime, _parse, parse_datetime

    start = datetime(2020, 1, 1)
    texts = [(start + timedelta(minutes=7 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(n)]
    zone = "America/New_York"
    tz = ZoneInfo(zone)

    def bare(text: str) -> str:
        parsed = _parse(text.strip(), DEFAULT_FORMATS)
        assert parsed is not None
        value = parsed.value.replace(tzinfo=tz, fold=0)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "Z"

    t0 = time.process_time()
    base = [bare(t) for t in texts]
    t_bare = time.process_time() - t0
    _datetime.cache_clear()
    to_utc.cache_clear()
    t0 = time.process_time()
    with collect_time_adjustments() as counts:
        got = [parse_datetime(t, zone) for t in texts]
    t_new = time.process_time() - t0
    assert got == base  # the same instants
    t0 = time.process_time()
    with collect_time_adjustments():
        for t in texts:
            parse_datetime(t, zone)
    t_warm = time.process_time() - t0
    print(f"time: {n:,} distinct local timestamps, {sum(counts.values())} adjusted ({dict(counts)})")
    print(f"  before (unclassified)      {n / t_bare:12,.0f} values/s")
    print(f"  parse_datetime, cold cache {n / t_new:12,.0f} values/s  ({t_new / t_bare:.2f}x the time before)")
    print(f"  parse_datetime, again      {n / t_warm:12,.0f} values/s  (cache holds 65,536)")


def bench_drift(rows: int) -> None:
    from medlake.bronze.drift import compare, infer_columns
    from medlake.formats.delimited import DelimitedOptions, parse_delimited

    rng = random.Random(5)
    header = "MRN|LAST|FIRST|SEX|BIRTH_DATE|ZIP|PHONE|EMAIL|ADMIT_DTTM|WEIGHT|ACTIVE|NOTE"
    lines = [header] + [
        f"{10_000_000 + i}|Smith|Ann|{rng.choice('MF')}|19{rng.randint(30, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}|"
        f"{rng.randint(10000, 99999)}|555-{rng.randint(1000, 9999)}|a{i}@x.org|2024-03-10 0{rng.randint(0, 9)}:30|"
        f"{rng.randint(40, 120)}.{rng.randint(0, 9)}|{rng.choice(['Y', 'N'])}|{rng.choice(['', 'ok', 'seen'])}"
        for i in range(rows)
    ]
    data = ("\n".join(lines) + "\n").encode()
    opts = DelimitedOptions(delimiter="|", quote=None, header=True, columns=None, encoding="utf-8")
    t0 = time.process_time()
    table = parse_delimited(data, opts, name="bench.txt").table
    t_parse = time.process_time() - t0
    table = table.drop([c for c in ("_line",) if c in table.column_names])
    t0 = time.process_time()
    registered = infer_columns(table)
    t_infer = time.process_time() - t0
    drifted = table.rename_columns([("HOME_PHONE" if n == "PHONE" else n) for n in table.column_names])
    t0 = time.process_time()
    changes = compare(registered, drifted)
    t_compare = time.process_time() - t0
    mb = len(data) / 1e6
    print(f"drift: {rows:,} rows x {table.num_columns} columns ({mb:.1f} MB); types {[c.type for c in registered]}")
    print(f"  parse_delimited       {t_parse:6.2f} s  ({mb / t_parse:6.1f} MB/s)")
    print(f"  infer (register)      {t_infer:6.2f} s  ({t_infer / t_parse:.2f}x the parse)")
    print(f"  compare (a rename)    {t_compare:6.2f} s  ({t_compare / t_parse:.2f}x the parse): {[c.text for c in changes]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--times", type=int, default=50_000)
    ap.add_argument("--rows", type=int, default=200_000)
    args = ap.parse_args()
    bench_time(args.times)
    bench_drift(args.rows)


if __name__ == "__main__":
    main()
