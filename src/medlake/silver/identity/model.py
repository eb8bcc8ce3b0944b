"""The Fellegi–Sunter model the matcher runs in Splink: comparisons, blocking rules, priors.

Comparisons use the prepared columns of `features.prepare`. Every level starts from a fixed,
reasoned m probability (how often a true match lands there, from the defect rates real
registration data shows: ~3% typos, ~25% nicknames, ~1% swapped birth dates, married names,
moves) and a fixed u probability (how often two different people land there). On inputs big
enough, u is re-estimated from random pairs (seeded) — m stays fixed: EM on duplicates-heavy
data tends to drift, and fixed m keeps results explainable and stable across runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Level:
    label: str
    sql: str
    m: float
    u: float


@dataclass(frozen=True)
class Comparison:
    field: str  # the prepared column (and `evidence` field name)
    levels: tuple[Level, ...]  # best first, `else` last; the null level is added when built
    null_sql: str = ""  # when the comparison has nothing to compare; default: the main column missing

    @property
    def columns(self) -> tuple[str, ...]:
        return _COLUMNS_USED.get(self.field, (self.field,))


_COLUMNS_USED = {"given": ("given", "given_key", "given_fix", "given_sx"), "family": ("family", "family_sx"),
                 "address": ("address", "postal", "city")}


def _eq(col: str) -> str:
    return f'"{col}_l" = "{col}_r"'


def _jw(col: str, at: float) -> str:
    return f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {at}'


# a typo (`jmes`/`james`), or a misspelt nickname (`tmomy`/`thomas`: `given_fix` is the group
# of the one nickname-table name one edit away)
_GIVEN_ONE_EDIT = ('damerau_levenshtein("given_l", "given_r") <= 1 OR "given_fix_l" = "given_key_r" '
                   'OR "given_key_l" = "given_fix_r"')

COMPARISONS: tuple[Comparison, ...] = (
    Comparison("given", (
        Level("same name or nickname", _eq("given_key"), 0.945, 0.006),
        Level("one letter off", _GIVEN_ONE_EDIT, 0.03, 0.0012),
        Level("similar spelling", _jw("given", 0.88), 0.01, 0.002),
        Level("sounds alike", _eq("given_sx"), 0.005, 0.012),
        Level("different", "ELSE", 0.01, 0.9788),
    )),
    Comparison("family", (
        Level("same", _eq("family"), 0.9, 0.003),
        Level("similar spelling", _jw("family", 0.88), 0.035, 0.008),
        Level("sounds alike", _eq("family_sx"), 0.01, 0.01),
        Level("different", "ELSE", 0.055, 0.979),
    )),
    Comparison("birth_date", (
        Level("same", _eq("birth_date"), 0.975, 0.00005),
        Level("day and month swapped",
              'strftime(try_cast("birth_date_l" as date), \'%Y-%d-%m\') = "birth_date_r"', 0.01, 0.000003),
        Level("one digit different", 'damerau_levenshtein("birth_date_l", "birth_date_r") <= 1', 0.008, 0.0006),
        Level("different", "ELSE", 0.007, 0.99934),
    )),
    Comparison("sex", (
        Level("same", _eq("sex"), 0.985, 0.5),
        Level("different", "ELSE", 0.015, 0.5),
    )),
    # where the person lives, as one comparison: a move changes street, ZIP and city together,
    # and three separate comparisons would count it three times
    Comparison("address", (
        Level("same street address", _eq("address"), 0.93, 0.0001),
        Level("similar street address", _jw("address", 0.9), 0.02, 0.001),
        Level("same postal code, street unknown", f'("address_l" IS NULL OR "address_r" IS NULL) AND {_eq("postal")}',
              0.9, 0.01),
        Level("same postal code, different street", _eq("postal"), 0.01, 0.008),
        Level("same city or ZIP3", f'{_eq("city")} OR left("postal_l", 3) = left("postal_r", 3)', 0.02, 0.32),
        Level("different", "ELSE", 0.025, 0.66),
    ), null_sql=" AND ".join(f'("{c}_l" IS NULL OR "{c}_r" IS NULL)' for c in ("address", "postal", "city"))),
    Comparison("phone", (
        Level("same", _eq("phone"), 0.93, 0.00001),
        Level("different", "ELSE", 0.07, 0.99999),
    )),
    Comparison("email", (
        Level("same", _eq("email"), 0.93, 0.0001),
        Level("different", "ELSE", 0.07, 0.9999),
    )),
    Comparison("ssn", (
        Level("same", _eq("ssn"), 0.95, 0.0000002),
        Level("one digit different", 'damerau_levenshtein("ssn_l", "ssn_r") <= 1', 0.03, 0.00002),
        Level("different", "ELSE", 0.02, 0.99998),
    )),
)

# Blocking rules: a pair is scored when it agrees on at least one key. The keys are built as
# columns (`keys.py`-style, in the matcher) so giant blocks can be capped before Splink sees them.
BLOCKING_KEYS: dict[str, str] = {
    "name_year": "family_sx || '|' || given_key || '|' || left(birth_date, 4)",
    "dob_given": "birth_date || '|' || given_key",
    "dob_family": "birth_date || '|' || family_sx",
    "phone": "phone",
    "email": "email",
    "postal_name": "postal || '|' || family_sx || '|' || given_key",
    "name": "family || '|' || given_key",
    "mrn": "source || '|' || mrn",
    "ssn": "ssn",
}


# Keys that only pair records meeting a condition: names alone pair a record only with one
# that has no birth date (either side); records with birth dates meet through the keys above.
BLOCKING_CONDITIONS: dict[str, str] = {"name": '(l."birth_date" IS NULL OR r."birth_date" IS NULL)'}

# Tighter block caps than `max_block_size` for keys whose big blocks are hopeless anyway: a
# name borne by more than 100 records belongs to dozens of people, and a name-only record
# cannot tell them apart.
BLOCK_CAPS: dict[str, int] = {"name": 100}


# Exact agreement on a rare name says more than on a common one: these levels use term
# frequencies (Splink's tf adjustment) of the column named here.
TF_ADJUSTED: dict[str, str] = {"given": "given_key", "family": "family"}


def prior(n_records: int, duplicates_per_record: float) -> float:
    """P(two random records match) when each record has `duplicates_per_record` true partners
    on average: matching pairs / all pairs."""
    if n_records < 2:
        return 0.5
    return min(0.5, max(1e-9, duplicates_per_record / (n_records - 1)))


def logit2(probability: float) -> float:
    """log2 of the odds: the match weight a prior adds."""
    return math.log2(probability / (1 - probability))


def splink_settings(comparisons: tuple[Comparison, ...], keys: tuple[str, ...], prior_probability: float) -> dict[str, Any]:
    """A Splink settings dictionary (dedupe) for the prepared table with key columns `k_<name>`."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "probability_two_random_records_match": prior_probability,
        "blocking_rules_to_generate_predictions": [_blocking_rule(k) for k in keys],
        "comparisons": [_splink_comparison(c) for c in comparisons],
        "retain_matching_columns": True,  # gamma_<field> (the level) is only output with them
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["mrn_key"],
    }


def _blocking_rule(key: str) -> str:
    rule = f'l."k_{key}" = r."k_{key}"'
    return f"{rule} AND {BLOCKING_CONDITIONS[key]}" if key in BLOCKING_CONDITIONS else rule


def _splink_comparison(c: Comparison) -> dict[str, Any]:
    main = c.columns[0]
    levels: list[dict[str, Any]] = [{
        "sql_condition": c.null_sql or f'"{main}_l" IS NULL OR "{main}_r" IS NULL',
        "label_for_charts": "missing",
        "is_null_level": True,
    }]
    for i, lv in enumerate(c.levels):
        level: dict[str, Any] = {"sql_condition": lv.sql, "label_for_charts": lv.label,
                                 "m_probability": lv.m, "u_probability": lv.u}
        if i == 0 and c.field in TF_ADJUSTED:
            level.update(tf_adjustment_column=TF_ADJUSTED[c.field], tf_adjustment_weight=1.0)
        levels.append(level)
    return {"output_column_name": c.field, "comparison_description": c.field, "comparison_levels": levels}
