"""Around Splink: blocking-key columns before it, the link/review decision and evidence after it.

Both steps are SQL on the matcher's DuckDB connection so a million records never become
Python objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from medlake.silver.identity import model

if TYPE_CHECKING:
    from medlake.silver.identity.matcher import MatchSettings

PAIR_SCHEMA = pa.schema([
    ("record_id_l", pa.string()), ("record_id_r", pa.string()), ("probability", pa.float64()),
    ("match_weight", pa.float64()), ("rule", pa.string()), ("decision", pa.string()), ("evidence", pa.string()),
])


def empty_pairs() -> pa.Table:
    return PAIR_SCHEMA.empty_table()


def build_keys(con: Any, prepared: pa.Table, cap: int, use_ssn: bool) -> tuple[str, ...]:
    """Create table `ml_keyed` (prepared columns + `mrn_key` + one `k_<name>` per useful blocking
    key, null where the key's block has more than `cap` (or the key's `model.BLOCK_CAPS`)
    records); the names of the keys kept."""
    names = [k for k in model.BLOCKING_KEYS if use_ssn or k != "ssn"]
    keyed = ", ".join(
        f"case when count(*) over (partition by {model.BLOCKING_KEYS[k]}) > {min(cap, model.BLOCK_CAPS.get(k, cap))} then null "
        f"else {model.BLOCKING_KEYS[k]} end as k_{k}"
        for k in names
    )
    con.execute(
        f"create or replace table ml_keyed as select *, source || '|' || mrn as mrn_key, {keyed} from ml_prepared"
    )
    counts = ", ".join(f"count(k_{k}) - count(distinct k_{k})" for k in names)
    useful = con.execute(f"select {counts} from ml_keyed").fetchall()[0]
    return tuple(k for k, repeated in zip(names, useful, strict=True) if repeated > 0)


PARTNERS_PER_RECORD = (0.25, 10.0)
"""Bounds of the estimated prior, in true partners per record: an input with no duplicates
(or a handful of records) would otherwise drive it to zero and nothing would ever link."""


def estimate_prior(con: Any, predictions: str, n_records: int, prior_used: float, rounds: int = 200) -> float:
    """P(two random records match) estimated from the scored pairs (EM on the prior alone, m and
    u fixed): λ ← Σ P(match | pair, λ) / all pairs, from `prior_used`, until it settles; kept
    within `PARTNERS_PER_RECORD` / (n − 1). Pairs blocking never scored count as non-matches."""
    all_pairs = n_records * (n_records - 1) / 2
    low, high = (min(0.5, k / max(1, n_records - 1)) for k in PARTNERS_PER_RECORD)
    con.execute(f"create or replace temp table ml_bf as select match_weight::double - {model.logit2(prior_used)} as bf "
                f"from {predictions}")
    prior = new = prior_used
    for _ in range(rounds):
        expected = con.execute(f"select coalesce(kahan_sum(1 / (1 + pow(2, -(bf + {model.logit2(prior)})))), 0) "
                               "from ml_bf").fetchall()[0][0]
        new = min(high, max(low, float(expected) / all_pairs))
        if abs(new - prior) <= 1e-9 * prior:
            break
        prior = new
    return float(f"{new:.5g}")  # parallel sums differ in the last bits: same input, same prior


def _level_sql(c: model.Comparison) -> str:
    top = len(c.levels) - 1
    whens = " ".join(f"when {top - i} then '{lv.label}'" for i, lv in enumerate(c.levels))
    return f"case gamma_{c.field} {whens} end"


def _weight_sql(c: model.Comparison) -> str:
    """The field's weight in bits, including the name-frequency adjustment where there is one."""
    tf = f" + coalesce(mw_tf_adj_{c.field}, 0)" if c.field in model.TF_ADJUSTED else ""
    return f"mw_{c.field}{tf}"


def _evidence_sql(comparisons: tuple[model.Comparison, ...]) -> str:
    items = ", ".join(
        f"case when gamma_{c.field} = -1 then null else {{'field': '{c.field}', 'level': {_level_sql(c)}, "
        f"'agree': gamma_{c.field} > 0, 'weight': round({_weight_sql(c)}, 3)}} end"
        for c in comparisons
    )
    return f"to_json(list_filter([{items}], lambda x: x is not null))::varchar"


_NAME_FIELDS = ("given", "family", "sex")


def _flags_sql(comparisons: tuple[model.Comparison, ...]) -> dict[str, str]:
    fields = {c.field: len(c.levels) - 1 for c in comparisons}

    def level(f: str, op: str, value: int | str) -> str:
        return f"(gamma_{f} {op} {fields[f] if value == 'top' else value})" if f in fields else "false"

    return {
        "same_ssn": level("ssn", "=", "top"),
        # two of given name, family name and birth date present and different
        "contradiction": "(" + " + ".join(f"{level(f, '=', 0)}::int" for f in ("given", "family", "birth_date")) + " >= 2)",
        "twin": f"({level('given', '=', 0)} and {level('birth_date', '=', 'top')})",
        # nothing but names (and sex) to compare: never linked on its score, see `namesakes`
        "thin": "(" + " and ".join([f"gamma_{f} = -1" for f in fields if f not in _NAME_FIELDS] or ["true"]) + ")",
        "same_name": f"({level('given', '=', 'top')} and {level('family', '=', 'top')})",
        "sex_differs": level("sex", "=", 0),
    }


def decide(con: Any, predictions: str, comparisons: tuple[model.Comparison, ...], settings: MatchSettings,
           must: list[tuple[str, str]], cannot: list[tuple[str, str]], prior_shift: float = 0.0) -> pa.Table:
    """The pairs table of `MatchResult` from Splink's predictions (see `matcher` for the rules);
    `prior_shift` (bits) moves every match weight from the prior Splink used to the estimated one."""
    con.register("ml_must", _pair_table(must))
    con.register("ml_cannot", _pair_table(cannot))
    flags = _flags_sql(comparisons)
    link, review = settings.link_probability, settings.review_probability
    con.execute(f"""
        create or replace temp table ml_flagged as
        select least(record_id_l, record_id_r) as record_id_l, greatest(record_id_l, record_id_r) as record_id_r,
               1 / (1 + pow(2, -(match_weight::double + {prior_shift}))) as probability,
               match_weight::double + {prior_shift} as match_weight,
               case when mrn_key_l = mrn_key_r then 'deterministic:mrn'
                    when {flags['same_ssn']} then 'deterministic:ssn' else 'probabilistic' end as rule,
               {flags['contradiction']} or {flags['twin']} as guarded,
               {flags['thin']} as thin, {flags['thin']} and {flags['same_name']} as namesake,
               {flags['sex_differs']} as sex_differs,
               {_evidence_sql(comparisons)} as evidence
        from {predictions}""")
    rel = con.sql(f"""
        with scored as (
          select f.*, m.a is not null as must
          from ml_flagged f
          left join ml_must m on m.a = f.record_id_l and m.b = f.record_id_r
          anti join ml_cannot c on c.a = f.record_id_l and c.b = f.record_id_r
        ), decided as (
          select record_id_l, record_id_r, probability, match_weight,
                 case when must then 'must_link' else rule end as rule,
                 case when must then 'link'
                      when rule <> 'probabilistic' and not guarded then 'link'
                      when rule <> 'probabilistic' then 'review'
                      when probability >= {review} and (guarded or thin) then 'review'
                      when probability >= {link} then 'link'
                      when probability >= {review} then 'review' end as decision,
                 evidence
          from scored
        )
        select * from decided where decision is not null
        union all
        select m.a, m.b, 1.0, 'NaN'::double, 'must_link', 'link', '[]'
        from ml_must m anti join ml_flagged f on f.record_id_l = m.a and f.record_id_r = m.b
        order by record_id_l, record_id_r""")
    return rel.to_arrow_table().cast(PAIR_SCHEMA)


def _pair_table(pairs: list[tuple[str, str]]) -> pa.Table:
    ordered = sorted({(min(a, b), max(a, b)) for a, b in pairs if a != b})
    return pa.table({"a": [p[0] for p in ordered], "b": [p[1] for p in ordered]},
                    schema=pa.schema([("a", pa.string()), ("b", pa.string())]))
