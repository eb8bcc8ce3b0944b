"""The person matcher: a table of person records in, scored pairs and clusters out.

    records ──► normalize (features) ──► blocking keys (capped) ──► Splink scores candidate
    pairs ──► rules decide link / review ──► clusters (must-link, cannot-link)

Deterministic rules link pairs that share an identifier (same source + MRN, same valid SSN)
unless their demographics flatly contradict (two of given name, family name and birth date
present and different), which sends them to review: feeds reuse MRNs by mistake. Probabilistic links need
`link_probability`; two records with the same birth date but entirely different given names
(twins, siblings) never link automatically, they go to review.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from medlake.errors import ConfigError
from medlake.silver.identity import features, model, namesakes, scoring
from medlake.silver.identity.cluster import cluster

ROLES: tuple[str, ...] = ("given_name", "family_name", "birth_date", "sex", "address_line", "city",
                          "state", "postal_code", "phone", "email", "ssn", "mrn", "source")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MatchSettings:
    link_probability: float = 0.95
    """Pairs at or above are linked."""
    review_probability: float = 0.50
    """Pairs in [review, link) go to the review list."""
    max_block_size: int = 500
    """Blocking-key values shared by more records than this are ignored (placeholders, twins of
    a common name); keeps cost near-linear."""
    duplicates_per_record: float | None = None
    """Expected true partners per record; sets the prior P(two random records match). None:
    estimated from the scored pairs (EM on the prior, m and u fixed)."""
    train_u: bool = False
    """Re-estimate u probabilities from random record pairs (seeded; slow, ~20 s per 10⁵
    records). Off by default: the fixed u values plus term frequencies on names do as well on
    the synthetic truth."""
    train_min_records: int = 2000
    """With `train_u`, the fewest records worth sampling."""
    u_sample_pairs: float = 2e6
    """Random pairs sampled to estimate u."""
    seed: int = 42
    """Seed of the u sampling: same input, same model, same output."""
    use_ssn: bool = True
    """Compare and block on SSN when the input has one."""


@dataclass
class MatchResult:
    pairs: pa.Table
    clusters: pa.Table
    stats: dict[str, int | float] = field(default_factory=dict)


def match(
    records: pa.Table,
    settings: MatchSettings = MatchSettings(),
    *,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    progress: Progress | None = None,
) -> MatchResult:
    """Score, decide and cluster `records` (a string `record_id` plus any of `ROLES`)."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    _validate(records, settings)
    must, cannot = _pairs(must_link), _pairs(cannot_link)
    say("normalizing")
    prepared = features.prepare(records)
    ids: list[str] = prepared.column("record_id").to_pylist()
    if records.num_rows < 2:
        pairs = scoring.empty_pairs()
        by_record = _cluster(ids, pairs, must, cannot)
        stats: dict[str, int | float] = {"candidate_pairs": 0}
    else:
        pairs, by_record, stats = _score(prepared, settings, must, cannot, say)
    clusters = pa.table({"record_id": ids, "cluster_id": [by_record[r] for r in ids]})
    decisions = pairs.column("decision").to_pylist()
    stats.update({
        "records": records.num_rows,
        "links": decisions.count("link"),
        "reviews": decisions.count("review"),
        "clusters": len(set(by_record.values())),
        "seconds": round(time.perf_counter() - t0, 3),
    })
    return MatchResult(pairs=pairs, clusters=clusters, stats=stats)


def _validate(records: pa.Table, settings: MatchSettings) -> None:
    if "record_id" not in records.column_names:
        raise ConfigError("the records have no `record_id` column; add one with a unique id per record")
    for name in ("record_id", *(r for r in ROLES if r in records.column_names)):  # other columns are ignored
        t = records.schema.field(name).type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)):
            raise ConfigError(f"column `{name}` has type {t}; every role must be a string column "
                              "(cast it with pyarrow first)", column=name)
    ids = records.column("record_id")
    if ids.null_count:
        raise ConfigError(f"{ids.null_count} record(s) have an empty `record_id`; every record needs an id")
    distinct = pa.compute.count_distinct(ids).as_py()
    if distinct != records.num_rows:
        raise ConfigError(f"`record_id` is not unique: {records.num_rows - distinct} duplicate id(s); "
                          "give every record its own id", duplicates=records.num_rows - distinct)
    if not 0.0 < settings.review_probability <= settings.link_probability <= 1.0:
        raise ConfigError(f"probabilities must satisfy 0 < review ({settings.review_probability}) <= link "
                          f"({settings.link_probability}) <= 1")


def _pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(str(a), str(b)) for a, b in pairs]


def _cluster(ids: list[str], pairs: pa.Table, must: list[tuple[str, str]], cannot: list[tuple[str, str]]) -> dict[str, str]:
    links = pairs.filter(pa.compute.equal(pairs.column("decision"), "link"))
    edges = zip(links.column("record_id_l").to_pylist(), links.column("record_id_r").to_pylist(),
                links.column("match_weight").to_pylist(), strict=True)
    return cluster(ids, ((a, b, w if w == w else 1e9) for a, b, w in edges), must_link=must, cannot_link=cannot)


def _key(t: pa.Table) -> pa.Array:
    return pa.compute.binary_join_element_wise(t.column("record_id_l"), t.column("record_id_r"), "\x1f")


def _clusters(ids: list[str], by_record: dict[str, str]) -> pa.Table:
    return pa.table({"record_id": ids, "cluster_id": [by_record[r] for r in ids]})


def _cluster_passes(con: Any, ids: list[str], pairs: pa.Table, must: list[tuple[str, str]],
                    cannot: list[tuple[str, str]]) -> tuple[pa.Table, dict[str, str], dict[str, int]]:
    """Clusters in three passes (see `namesakes`): the records with more than a name; then the
    name-only records, unless one would bridge two of those clusters (its links go to review);
    then the name-only records still alone that one person's name fits. Returns the final pairs,
    clusters and the counts of bridging pairs and `unique_name` links."""
    name_only = pa.array(namesakes.name_only_ids(con), pa.string())
    thin_end = pa.compute.or_(pa.compute.is_in(pairs.column("record_id_l"), value_set=name_only),
                              pa.compute.is_in(pairs.column("record_id_r"), value_set=name_only))
    core = _cluster(ids, pairs.filter(pa.compute.invert(thin_end)), must, cannot)
    bridging = namesakes.bridges(con, pairs, _clusters(ids, core))
    if bridging.num_rows:
        demoted = pa.compute.is_in(_key(pairs), value_set=_key(bridging))
        pairs = pairs.set_column(pairs.schema.get_field_index("decision"), "decision",
                                 pa.compute.if_else(demoted, "review", pairs.column("decision")))
    first = _cluster(ids, pairs, must, cannot)
    extra = namesakes.links(con, _clusters(ids, first))
    counts = {"bridging_pairs": bridging.num_rows, "unique_name_links": extra.num_rows}
    if extra.num_rows == 0:
        return pairs, first, counts
    kept = pairs.filter(pa.compute.invert(pa.compute.is_in(_key(pairs), value_set=_key(extra))))
    pairs = pa.concat_tables([kept, extra]).sort_by([("record_id_l", "ascending"), ("record_id_r", "ascending")])
    return pairs, _cluster(ids, pairs, must, cannot), counts


def _score(prepared: pa.Table, settings: MatchSettings, must: list[tuple[str, str]], cannot: list[tuple[str, str]],
           say: Progress) -> tuple[pa.Table, dict[str, str], dict[str, int | float]]:
    from medlake.lake.catalog import duckdb_connect

    comparisons = tuple(c for c in model.COMPARISONS if any(features.present(prepared, col) for col in c.columns)
                        and (settings.use_ssn or c.field != "ssn"))
    con = duckdb_connect()
    try:
        con.register("ml_prepared", prepared)
        say("blocking")
        keys = scoring.build_keys(con, prepared, settings.max_block_size, settings.use_ssn)
        say("scoring pairs")
        n = prepared.num_rows
        used = model.prior(n, settings.duplicates_per_record or 1.0)
        with _quiet_splink():
            predictions, candidates = _predict(con, comparisons, keys, n, used, settings)
        prior = used if settings.duplicates_per_record else scoring.estimate_prior(con, predictions, n, used)
        say("deciding")
        pairs = scoring.decide(con, predictions, comparisons, settings, must, cannot,
                               prior_shift=model.logit2(prior) - model.logit2(used))
        say("clustering")
        pairs, by_record, counts = _cluster_passes(con, prepared.column("record_id").to_pylist(), pairs, must, cannot)
    finally:
        con.close()
    return pairs, by_record, {"candidate_pairs": candidates, "blocking_keys": len(keys), "comparisons": len(comparisons),
                              "prior": prior, "duplicates_per_record": round(prior * (n - 1), 3), **counts}


def _predict(con: Any, comparisons: tuple[model.Comparison, ...], keys: tuple[str, ...], n: int, prior: float,
             settings: MatchSettings) -> tuple[str, int]:
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(con)
    sdf = db_api.register("ml_keyed")
    linker = Linker(sdf, model.splink_settings(comparisons, keys, prior), log_level=None)
    if settings.train_u and n >= settings.train_min_records:
        linker.training.estimate_u_using_random_sampling(max_pairs=settings.u_sample_pairs, seed=settings.seed)
    predictions = linker.inference.predict()
    name = predictions.physical_name
    candidates = int(con.execute(f"select count(*) from {name}").fetchall()[0][0])
    return name, candidates


@contextmanager
def _quiet_splink() -> Iterator[None]:
    logger = logging.getLogger("splink")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
