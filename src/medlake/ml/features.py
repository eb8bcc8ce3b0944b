"""Point-in-time feature tables for the three models (`gold.ml_features_<model>`).

    con = duckdb_connect("lake/acme/gold/gold.duckdb")
    table = build_features(con, "readmission")      # pyarrow Table, one row per prediction time

Every row is a person at a prediction time T (`predicted_at`); every feature is computed
only from events strictly before T, and the label only from events at or after T:

    readmission  T = discharge of each inpatient stay (class IMP/ACUTE/NONAC, alive at
                 discharge, not left against medical advice); label = another inpatient
                 admission starting in (T, T + 30 days]
    diabetes     T = each month start, for people with diabetes (ICD-10 E08–E13 known before
                 T) and an HbA1c before T; label = an HbA1c in [T, T + 12 months) above 9 %
                 when the last one before T was at most 9 %, or ≥ 0.5 points above the last
                 one; NULL when there is no HbA1c in that year
    ed           T = each month start, for people with an encounter in the 24 months
                 before T; label = ≥ 1 ED visit (class EMER) in [T, T + 6 months)

The label is NULL when its window reaches past the data's as-of time (not yet observable):
those rows are for scoring, not training. The inputs are the gold staging views
(`gold_staging.stg__*`) and the `observation_measures` seed (`gold_ref`), i.e. the tables a
gold build leaves in gold.duckdb. The scheduling data (appointments, no-shows) and social
factors are not in the flat views yet, so there is no no-show feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medlake.errors import MedlakeError, Terminal
from medlake.ml import charlson

SOURCE_SCHEMA = "gold_staging"
REF_SCHEMA = "gold_ref"
INPATIENT_CLASSES = ("IMP", "ACUTE", "NONAC")
LAB_LOOKBACK = "24 month"  # labs and vitals older than this are not "latest"


class FeatureError(MedlakeError, Terminal):
    """The feature inputs are missing or a model name is unknown."""


@dataclass(frozen=True)
class ModelSpec:
    """What one model predicts: its prediction times, label window and features."""

    name: str
    description: str
    horizon: str  # DuckDB interval of the label window
    features: tuple[str, ...]


COMMON_FEATURES = (
    "age_years",
    "sex_female",
    "inpatient_admissions_12m",
    "ed_visits_12m",
    "encounters_12m",
    "charlson_index",
    "has_diabetes",
    "has_heart_failure",
    "has_renal",
    "medication_count_12m",
    "pdc_180d",
    "hba1c_latest",
    "hba1c_slope_per_year",
    "hba1c_count_24m",
    "egfr_latest",
    "bmi_latest",
    "bp_systolic_latest",
    "bp_diastolic_latest",
)

MODELS: dict[str, ModelSpec] = {
    "readmission": ModelSpec(
        "readmission",
        "30-day all-cause readmission after an inpatient discharge",
        "30 day",
        (*COMMON_FEATURES, "length_of_stay_days"),
    ),
    "diabetes": ModelSpec(
        "diabetes",
        "diabetes progression: HbA1c rises above 9 % (or by ≥ 0.5 points) within 12 months",
        "12 month",
        COMMON_FEATURES,
    ),
    "ed": ModelSpec(
        "ed",
        "≥ 1 emergency department visit in the next 6 months",
        "6 month",
        COMMON_FEATURES,
    ),
}

KEY_COLUMNS = ("person_id", "predicted_at", "index_encounter_id", "label")


def model_spec(model: str) -> ModelSpec:
    """The spec of `model`, or a FeatureError listing the known ones."""
    try:
        return MODELS[model]
    except KeyError:
        raise FeatureError(
            f"unknown model `{model}`; use one of {', '.join(MODELS)}", model=model
        ) from None


def _events_sql(src: str, ref: str) -> list[str]:
    """Temp tables of person-keyed events, shared by all models."""
    inpatient = ", ".join(f"'{c}'" for c in INPATIENT_CLASSES)
    return [
        f"""create or replace temp table ml_person as
        select p.patient_id, coalesce(x.person_id, p.patient_id) as person_id,
               p.birth_date, p.gender, p.deceased_at
        from {src}.stg__patient as p
        left join {src}.stg__person_xref as x on x.patient_id = p.patient_id""",
        f"""create or replace temp table ml_enc as
        select x.person_id, e.encounter_id, e.period_start as start_at, e.period_end as end_at,
               coalesce(e.class_code in ({inpatient}), false) as is_inpatient,
               coalesce(e.class_code = 'EMER', false) as is_ed,
               e.discharge_disposition
        from {src}.stg__encounter as e
        join ml_person as x on x.patient_id = e.patient_id
        where e.period_start is not null
          and coalesce(e.status, '') not in ('planned', 'cancelled', 'entered-in-error')""",
        # a condition is known from when it was recorded (onset can be back-dated)
        f"""create or replace temp table ml_cond as
        with coded as (
            select x.person_id, coalesce(c.recorded_at, c.onset_at) as known_at,
                   upper(replace(case when c.code_system ilike '%icd-10%' then c.code
                                      when c.source_code_system ilike '%icd-10%' then c.source_code
                                 end, '.', '')) as icd10
            from {src}.stg__condition as c
            join ml_person as x on x.patient_id = c.patient_id
            where coalesce(c.verification_status, '') not in ('refuted', 'entered-in-error')
        )
        select distinct coded.person_id, coded.known_at, ch.category
        from coded join ml_charlson as ch on starts_with(coded.icd10, ch.prefix)
        where coded.known_at is not null""",
        f"""create or replace temp table ml_obs as
        select x.person_id, o.observation_id, o.effective_at as event_at, m.measure, o.value_number as value
        from {src}.stg__observation as o
        join ml_person as x on x.patient_id = o.patient_id
        join {ref}.observation_measures as m
          on o.code_system = 'http://loinc.org' and o.code = m.loinc_code
        where o.effective_at is not null and o.value_number is not null
          and coalesce(o.status, '') not in ('entered-in-error', 'cancelled')
          and m.measure in ('hba1c', 'egfr', 'bmi', 'bp_systolic', 'bp_diastolic')""",
        f"""create or replace temp table ml_disp as
        select x.person_id, d.handed_over_at as event_at,
               coalesce(d.code, d.ndc, d.source_code) as drug, d.days_supply
        from {src}.stg__medication_dispense as d
        join ml_person as x on x.patient_id = d.patient_id
        where d.handed_over_at is not null
          and coalesce(d.status, '') not in ('entered-in-error', 'cancelled', 'declined')""",
    ]


def _times_sql(model: str, months: int) -> str:
    """`ml_times(person_id, predicted_at, index_encounter_id, length_of_stay_days)`."""
    if model == "readmission":
        return """create or replace temp table ml_times as
        select e.person_id, e.end_at as predicted_at, e.encounter_id as index_encounter_id,
               date_diff('day', cast(e.start_at as date), cast(e.end_at as date)) as length_of_stay_days
        from ml_enc as e
        join (select distinct person_id, min(deceased_at) as deceased_at from ml_person group by 1) as p
          on p.person_id = e.person_id
        where e.is_inpatient and e.end_at is not null and e.end_at <= (select as_of from ml_as_of)
          and (p.deceased_at is null or p.deceased_at > e.end_at)
          and coalesce(e.discharge_disposition, '') <> 'aadvice'"""
    population = (
        """exists (select 1 from ml_cond as c where c.person_id = p.person_id
                      and c.category in ('diabetes', 'diabetes_complicated') and c.known_at < m.t)
           and exists (select 1 from ml_obs as o where o.person_id = p.person_id
                      and o.measure = 'hba1c' and o.event_at < m.t)"""
        if model == "diabetes"
        else """exists (select 1 from ml_enc as e where e.person_id = p.person_id
                      and e.start_at < m.t and e.start_at >= m.t - interval 24 month)"""
    )
    return f"""create or replace temp table ml_times as
        with months as (
            select unnest(generate_series(
                date_trunc('month', (select as_of from ml_as_of)) - interval {months - 1} month,
                date_trunc('month', (select as_of from ml_as_of)),
                interval 1 month)) as t
        ),
        people as (select person_id, min(deceased_at) as deceased_at from ml_person group by 1)
        select p.person_id, m.t as predicted_at, cast(null as varchar) as index_encounter_id,
               cast(null as bigint) as length_of_stay_days
        from people as p cross join months as m
        where (p.deceased_at is null or p.deceased_at > m.t) and {population}"""


def _label_sql(model: str) -> str:
    """`ml_label(person_id, predicted_at, label)`: NULL when the window is not over yet."""
    horizon = MODELS[model].horizon
    if model == "readmission":
        outcome = """max((e.start_at > t.predicted_at and e.start_at <= t.predicted_at + interval 30 day
                      and e.encounter_id <> t.index_encounter_id)::int)"""
        join = "left join ml_enc as e on e.person_id = t.person_id and e.is_inpatient"
    elif model == "ed":
        outcome = """max((e.start_at >= t.predicted_at
                      and e.start_at < t.predicted_at + interval 6 month)::int)"""
        join = "left join ml_enc as e on e.person_id = t.person_id and e.is_ed"
    else:
        outcome = """max(case when o.event_at >= t.predicted_at and o.event_at < t.predicted_at + interval 12 month
                      then ((o.value > 9 and f.hba1c_latest <= 9) or o.value >= f.hba1c_latest + 0.5)::int end)"""
        join = """left join ml_obs as o on o.person_id = t.person_id and o.measure = 'hba1c'
            join ml_feat_obs as f on f.person_id = t.person_id and f.predicted_at = t.predicted_at"""
    fallback = "" if model == "diabetes" else ", 0"
    return f"""create or replace temp table ml_label as
        select t.person_id, t.predicted_at, t.index_encounter_id,
               case when t.predicted_at + interval {horizon} <= (select as_of from ml_as_of)
                    then coalesce({outcome}{fallback}) end as label
        from ml_times as t {join}
        group by t.person_id, t.predicted_at, t.index_encounter_id"""


_FEATURE_SQL = [
    """create or replace temp table ml_feat_enc as
    select t.person_id, t.predicted_at,
           count(*) filter (where e.is_inpatient) as inpatient_admissions_12m,
           count(*) filter (where e.is_ed) as ed_visits_12m,
           count(*) as encounters_12m
    from ml_times as t
    join ml_enc as e on e.person_id = t.person_id
     and e.start_at < t.predicted_at and e.start_at >= t.predicted_at - interval 12 month
    group by all""",
    """create or replace temp table ml_feat_cond as
    pivot (select t.person_id, t.predicted_at, 'has_' || c.category as category, true as present
           from ml_times as t join ml_cond as c
             on c.person_id = t.person_id and c.known_at < t.predicted_at)
    on category in ({categories}) using bool_or(present) group by person_id, predicted_at""",
    """create or replace temp table ml_feat_obs as
    with before as (
        select t.person_id, t.predicted_at, o.measure, o.value, o.event_at,
               row_number() over (partition by t.person_id, t.predicted_at, o.measure
                                  order by o.event_at desc, o.observation_id desc) as rn
        from ml_times as t
        join ml_obs as o on o.person_id = t.person_id
         and o.event_at < t.predicted_at and o.event_at >= t.predicted_at - interval {lookback}
    )
    select person_id, predicted_at,
           max(value) filter (where rn = 1 and measure = 'hba1c') as hba1c_latest,
           case when count(distinct event_at) filter (where measure = 'hba1c') >= 2  -- else no slope
                then regr_slope(value, epoch(event_at) / 86400 / 365.25) filter (where measure = 'hba1c')
           end as hba1c_slope_per_year,
           count(*) filter (where measure = 'hba1c') as hba1c_count_24m,
           max(value) filter (where rn = 1 and measure = 'egfr') as egfr_latest,
           max(value) filter (where rn = 1 and measure = 'bmi') as bmi_latest,
           max(value) filter (where rn = 1 and measure = 'bp_systolic') as bp_systolic_latest,
           max(value) filter (where rn = 1 and measure = 'bp_diastolic') as bp_diastolic_latest
    from before group by all""",
    """create or replace temp table ml_feat_med as
    with fills as (
        select t.person_id, t.predicted_at, d.drug, d.event_at, d.days_supply
        from ml_times as t
        join ml_disp as d on d.person_id = t.person_id
         and d.event_at < t.predicted_at and d.event_at >= t.predicted_at - interval 12 month
    ),
    covered as (
        select distinct person_id, predicted_at, cast(event_at as date) + cast(k as integer) as day
        from fills, unnest(range(0, cast(least(greatest(coalesce(days_supply, 0), 0), 366) as bigint))) as r(k)
    )
    select f.person_id, f.predicted_at,
           count(distinct f.drug) as medication_count_12m,
           case when max(f.days_supply) > 0 then coalesce(max(c.days), 0) / 180.0 end as pdc_180d
    from fills as f
    left join (select person_id, predicted_at, count(*) as days from covered
               where day < cast(predicted_at as date) and day >= cast(predicted_at as date) - 180
               group by all) as c
      on c.person_id = f.person_id and c.predicted_at = f.predicted_at
    group by all""",
]


def _select_sql(model: str) -> str:
    spec = MODELS[model]
    charlson_flags = {f"has_{c}" for c in charlson.CATEGORIES}
    zero_if_missing = {
        "inpatient_admissions_12m", "ed_visits_12m", "encounters_12m",
        "medication_count_12m", "hba1c_count_24m", "charlson_index",
    }  # fmt: skip
    cols = []
    for name in spec.features:
        if name == "age_years":
            expr = "date_sub('year', p.birth_date, cast(t.predicted_at as date))"
        elif name == "sex_female":
            expr = "case p.gender when 'female' then 1 when 'male' then 0 end"
        elif name == "charlson_index":
            expr = f"({charlson.score_sql()})"
        elif name == "has_diabetes":  # either form, before the hierarchy
            expr = "coalesce(has_diabetes or has_diabetes_complicated, false)::int"
        elif name in charlson_flags:
            expr = f"coalesce({name}, false)::int"
        elif name == "length_of_stay_days":
            expr = "t.length_of_stay_days"
        else:
            expr = name
        if name in zero_if_missing:
            expr = f"coalesce({expr}, 0)"
        cols.append(f"{expr} as {name}")
    return f"""select t.person_id, t.predicted_at, t.index_encounter_id, l.label,
           {", ".join(cols)}
    from ml_times as t
    join ml_label as l on l.person_id = t.person_id and l.predicted_at = t.predicted_at
     and l.index_encounter_id is not distinct from t.index_encounter_id
    left join (select person_id, min(birth_date) as birth_date, min(gender) as gender
               from ml_person group by 1) as p on p.person_id = t.person_id
    left join ml_feat_enc as fe on fe.person_id = t.person_id and fe.predicted_at = t.predicted_at
    left join ml_feat_cond as fc on fc.person_id = t.person_id and fc.predicted_at = t.predicted_at
    left join ml_feat_obs as fo on fo.person_id = t.person_id and fo.predicted_at = t.predicted_at
    left join ml_feat_med as fm on fm.person_id = t.person_id and fm.predicted_at = t.predicted_at
    order by t.predicted_at, t.person_id, t.index_encounter_id"""


def _as_of_sql(as_of: str | None) -> str:
    if as_of is not None:
        return "create or replace temp table ml_as_of as select cast(? as timestamptz) as as_of"
    return """create or replace temp table ml_as_of as
    select max(event_at) as as_of from (
        select start_at as event_at from ml_enc union all select end_at from ml_enc
        union all select event_at from ml_obs union all select known_at from ml_cond
        union all select event_at from ml_disp
    ) where event_at <= current_timestamp"""


def _check_inputs(con: Any, src: str, ref: str) -> None:
    needed = [(src, t) for t in ("stg__patient", "stg__person_xref", "stg__encounter", "stg__condition", "stg__observation", "stg__medication_dispense")]
    needed.append((ref, "observation_measures"))
    have = {
        (s, n)
        for s, n in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    missing = [f"{s}.{n}" for s, n in needed if (s, n) not in have]
    if missing:
        raise FeatureError(
            f"feature inputs missing: {', '.join(missing)}. Build gold first "
            "(`medlake run` or `medlake demo`): the ML features read its staging views.",
            missing=missing,
        )


def build_features(
    con: Any,
    model: str,
    *,
    as_of: str | None = None,
    months: int = 36,
    source_schema: str = SOURCE_SCHEMA,
    ref_schema: str = REF_SCHEMA,
) -> Any:
    """The feature table of `model` as a pyarrow Table (key columns, label, features).

    `as_of` (ISO instant) is the end of the data; by default the latest event time that is
    not in the future. Month-start models look back `months` months from it.
    """
    spec = model_spec(model)
    if months < 1:
        raise FeatureError(f"`months` must be at least 1, got {months}", months=months)
    _check_inputs(con, source_schema, ref_schema)
    con.execute("set TimeZone = 'UTC'")
    con.execute("create or replace temp table ml_charlson (category varchar, weight int, prefix varchar)")
    con.executemany("insert into ml_charlson values (?, ?, ?)", charlson.rows())
    for sql in _events_sql(source_schema, ref_schema):
        con.execute(sql)
    con.execute(_as_of_sql(as_of), [as_of] if as_of is not None else [])
    con.execute(_times_sql(model, months))
    categories = ", ".join(f"'has_{c}'" for c in charlson.CATEGORIES)
    for sql in _FEATURE_SQL:
        con.execute(sql.format(categories=categories, lookback=LAB_LOOKBACK))
    con.execute(_label_sql(spec.name))
    return con.sql(_select_sql(spec.name)).to_arrow_table()
