"""Person matching: pairwise precision / recall / F1 and time against the synthetic truth.

Runs `medlake.silver.identity.matcher.match` on `synth.people.person_records` at 10k, 100k and
1M records without SSN (and at 10k with SSN), beside a plain baseline: exact match on
normalized family + given + birth date. Prints numbers and ratios, asserts nothing.

    .venv/bin/python benchmarks/bench_match.py            # 10k, 10k+ssn, 100k, 1M
    .venv/bin/python benchmarks/bench_match.py 10000      # one size
"""

from __future__ import annotations

import sys
import time

import pyarrow as pa

from medlake.silver.identity.evaluate import Accuracy, pairwise_accuracy
from medlake.silver.identity.features import prepare
from medlake.silver.identity.matcher import MatchSettings, match
from medlake.synth.people import person_records


def baseline(records: pa.Table) -> pa.Table:
    """Exact match on normalized family + given (nickname group) + birth date; others alone."""
    from medlake.lake.catalog import duckdb_connect

    con = duckdb_connect()
    con.register("p", prepare(records))
    return con.sql("""
        select record_id, case when family is null or given_key is null or birth_date is null then record_id
                          else min(record_id) over (partition by family, given_key, birth_date) end as cluster_id
        from p""").to_arrow_table()


def line(name: str, acc: Accuracy, seconds: float) -> str:
    return (f"  {name:<9} P={acc.precision:.4f} R={acc.recall:.4f} F1={acc.f1:.4f} "
            f"clusters={acc.clusters:,} (truth {acc.persons:,}) {seconds:7.1f} s")


def run(n: int, with_ssn: bool) -> None:
    t0 = time.perf_counter()
    truth = person_records(n, seed=42, with_ssn=with_ssn, workers=2 if n >= 200_000 else 0)
    gen = time.perf_counter() - t0
    records = truth.drop_columns(["person_id"] if with_ssn else ["person_id", "ssn"])
    print(f"{truth.num_rows:,} records{' with SSN' if with_ssn else ''} (generated in {gen:.1f} s)", flush=True)
    t0 = time.perf_counter()
    result = match(records, MatchSettings())
    t_match = time.perf_counter() - t0
    acc = pairwise_accuracy(result.clusters, truth)
    t0 = time.perf_counter()
    base = pairwise_accuracy(baseline(records), truth)
    t_base = time.perf_counter() - t0
    print(line("matcher", acc, t_match))
    print(line("baseline", base, t_base))
    s = result.stats
    print(f"  candidate pairs {s['candidate_pairs']:,} ({s['candidate_pairs'] / truth.num_rows:.1f} per record), "
          f"links {s['links']:,}, reviews {s['reviews']:,}; recall ×{acc.recall / base.recall:.2f} of baseline, "
          f"{truth.num_rows / t_match:,.0f} records/s", flush=True)
    print(f"  prior: {s['duplicates_per_record']} partners per record estimated; name-only records: "
          f"{s['unique_name_links']:,} unique-name links, {s['bridging_pairs']:,} bridging pairs sent to review",
          flush=True)


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000]
    for n in sizes:
        run(n, with_ssn=False)
        if n == 10_000:
            run(n, with_ssn=True)


if __name__ == "__main__":
    main()
