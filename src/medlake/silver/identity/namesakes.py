"""Name-only records: no bridges between people, and a join to the one person bearing the name.

Some feeds know a person by little more than a name (a wearables account: given and family
name, an email; an 835 patient: name and member id). A *name-only* record has no birth date,
address, postal code, phone or SSN. A name is weak evidence — a common name links strangers,
and one name-only record scoring high against two people would chain them — so *thin* pairs
(nothing but names and sex to compare) are never linked on their score (`scoring`), and the
matcher clusters in three passes (`matcher._cluster_passes`):

1. the records with more than a name;
2. `bridges`: a name-only record whose probabilistic links (an email shared with a namesake,
   say) reach two of those clusters joins neither; those pairs go to review;
3. `links`: a name-only record still alone joins a person when
   - it has a given and a family name;
   - of the clusters holding another record with exactly that name (family name, and given
     name or nickname), exactly one has no record with another email or the other sex (a
     cluster that does is somebody else), none holds only name-only records (two name-only
     records with one name: which one is the person's?), and the pair with one of its
     namesakes was scored (a name shared by more than `max_block_size` records is never
     scored);
   - every scored pair between the record and that cluster is thin and none disagrees on sex.

   The link is the strongest such pair, with rule `unique_name` and its own evidence;
   ambiguity stays unlinked (on the review list when its score is high enough).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from medlake.silver.identity.scoring import PAIR_SCHEMA

RULE = "unique_name"

# a record with nothing but names (and sex, email, identifiers) to be matched on
_NAME_ONLY = ("{p}.birth_date is null and {p}.address is null and {p}.postal is null and {p}.phone is null "
              "and {p}.ssn is null")

_SQL = """
with size as (select cluster_id, count(*) as n from ml_first group by cluster_id),
alone as (
    select p.record_id, p.family, p.given_key, p.email, p.sex
    from ml_prepared p join ml_first c using (record_id) join size s using (cluster_id)
    where s.n = 1 and p.family is not null and p.given_key is not null and {name_only}
),
bearers as (
    select distinct a.record_id as rec, c.cluster_id
    from alone a
    join ml_prepared p on p.family = a.family and p.given_key = a.given_key and p.record_id <> a.record_id
    join ml_first c on c.record_id = p.record_id
),
candidates as (  -- a cluster holding another email or the other sex is not the record's person
    select b.rec, b.cluster_id, coalesce(bool_or(a.email <> m.email or a.sex <> m.sex), false) as conflict,
           bool_or(not ({member_name_only})) as person
    from bearers b join alone a on a.record_id = b.rec
    join ml_first mc on mc.cluster_id = b.cluster_id join ml_prepared m on m.record_id = mc.record_id
    group by b.rec, b.cluster_id
),
unique_name as (
    select rec, any_value(cluster_id) filter (where person and not conflict) as cluster_id
    from candidates group by rec
    having count(*) filter (where person and not conflict) = 1 and count(*) filter (where not person) = 0
),
pairs as (
    select u.rec, f.* from unique_name u join ml_flagged f on f.record_id_l = u.rec
    join ml_first c on c.record_id = f.record_id_r and c.cluster_id = u.cluster_id
    union all
    select u.rec, f.* from unique_name u join ml_flagged f on f.record_id_r = u.rec
    join ml_first c on c.record_id = f.record_id_l and c.cluster_id = u.cluster_id
),
consistent as (
    select rec from pairs group by rec having bool_and(thin and not sex_differs) and bool_or(namesake)
)
select record_id_l, record_id_r, probability, match_weight, '{rule}' as rule, 'link' as decision, evidence
from pairs join consistent using (rec)
where namesake
qualify row_number() over (partition by rec order by match_weight desc, record_id_l, record_id_r) = 1
order by record_id_l, record_id_r
"""


def links(con: Any, first: pa.Table) -> pa.Table:
    """The `unique_name` link pairs (`PAIR_SCHEMA`) for the first-pass clusters `first`
    (record_id, cluster_id); needs the matcher's `ml_prepared` and `ml_flagged` tables."""
    con.register("ml_first", first)
    try:
        sql = _SQL.format(rule=RULE, name_only=_NAME_ONLY.format(p="p"), member_name_only=_NAME_ONLY.format(p="m"))
        return con.sql(sql).to_arrow_table().cast(PAIR_SCHEMA)
    finally:
        con.unregister("ml_first")


_BRIDGES_SQL = """
with thin as (select record_id from ml_prepared p where {name_only}),
ends as (
    select p.record_id_l, p.record_id_r,
           case when l.record_id is not null then p.record_id_l else p.record_id_r end as rec,
           case when l.record_id is not null then p.record_id_r else p.record_id_l end as other
    from ml_pairs p left join thin l on l.record_id = p.record_id_l left join thin r on r.record_id = p.record_id_r
    where p.decision = 'link' and p.rule = 'probabilistic' and (l.record_id is null) <> (r.record_id is null)
),
bridging as (
    select rec from ends join ml_core c on c.record_id = ends.other group by rec having count(distinct c.cluster_id) > 1
)
select e.record_id_l, e.record_id_r from ends e semi join bridging b on b.rec = e.rec
"""


def name_only_ids(con: Any) -> list[str]:
    """The records of `ml_prepared` with nothing but names (and sex, email, identifiers)."""
    rows = con.execute(f"select record_id from ml_prepared p where {_NAME_ONLY.format(p='p')}").fetchall()
    return [r[0] for r in rows]


def bridges(con: Any, pairs: pa.Table, core: pa.Table) -> pa.Table:
    """The probabilistic link pairs (record_id_l, record_id_r) through which a name-only record
    would join two clusters of `core` (the clusters of the other records): a name cannot tell
    two people apart, so the record joins neither and those pairs go to review."""
    con.register("ml_pairs", pairs)
    con.register("ml_core", core)
    try:
        return con.sql(_BRIDGES_SQL.format(name_only=_NAME_ONLY.format(p="p"))).to_arrow_table()
    finally:
        con.unregister("ml_pairs")
        con.unregister("ml_core")
