"""Pairwise accuracy of a clustering against the truth (which records are the same person).

A pair of records is predicted when both records are in one cluster, true when both belong to
one person. Counts come from group sizes (n·(n−1)/2 per group), so a million records cost one
GROUP BY, not a trillion pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Accuracy:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    clusters: int
    persons: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def pairwise_accuracy(clusters: pa.Table, truth: pa.Table) -> Accuracy:
    """`clusters` (record_id, cluster_id) against `truth` (record_id, person_id), same records."""
    from medlake.lake.catalog import duckdb_connect

    con = duckdb_connect()
    try:
        con.register("c", clusters.select(["record_id", "cluster_id"]))
        con.register("t", truth.select(["record_id", "person_id"]))
        row = con.execute("""
            with j as (select c.cluster_id, t.person_id from c join t using (record_id)),
                 pairs as (select count(*) as n from j group by cluster_id, person_id)
            select (select sum(n * (n - 1) // 2) from (select count(*) n from j group by person_id)),
                   (select sum(n * (n - 1) // 2) from (select count(*) n from j group by cluster_id)),
                   (select sum(n * (n - 1) // 2) from pairs),
                   (select count(distinct cluster_id) from j), (select count(distinct person_id) from j)
        """).fetchall()[0]
    finally:
        con.close()
    return Accuracy(*(int(v or 0) for v in row))
