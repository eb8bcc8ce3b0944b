"""The matcher's tuned rules on hand-made cases: misspelt nicknames, one address comparison,
the estimated prior, thin (name-only) pairs and the unique-name second pass."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from medlake.lake.catalog import duckdb_connect
from medlake.silver.identity import scoring
from medlake.silver.identity.matcher import MatchResult, MatchSettings, match
from medlake.silver.identity.nicknames import canonical_given, near_group, one_edit

COLUMNS = ("record_id", "given_name", "family_name", "birth_date", "sex", "address_line", "postal_code", "email")


def table(*rows: tuple[str | None, ...]) -> pa.Table:
    return pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(COLUMNS)})


# distinct people around the cases (same shape as the cases, nobody shares a name or a birth date)
BACKGROUND = [
    (f"z{i:02d}", given, family, f"19{40 + i}-0{1 + i % 9}-2{i % 8}", "F" if i % 2 else "M",
     f"{200 + i} Birch Rd", f"605{i:02d}", None)
    for i, (given, family) in enumerate([
        ("Alice", "Walker"), ("Brian", "Chen"), ("Carla", "Diaz"), ("Derek", "Olsen"), ("Erin", "Patel"),
        ("Frank", "Novak"), ("Gina", "Rossi"), ("Hugo", "Meyer"), ("Iris", "Kowalski"), ("Jack", "Brown"),
        ("Karen", "Lopez"), ("Liam", "Nguyen"), ("Mona", "Fischer"), ("Nils", "Berg"), ("Olga", "Petrov"),
    ])
]


def pairs_of(result: MatchResult) -> dict[tuple[str, str], dict[str, object]]:
    return {(p["record_id_l"], p["record_id_r"]): p for p in result.pairs.to_pylist()}


def clusters_of(result: MatchResult) -> dict[str, str]:
    c = result.clusters
    return dict(zip(c.column("record_id").to_pylist(), c.column("cluster_id").to_pylist(), strict=True))


def levels(pair: dict[str, object]) -> dict[str, str]:
    return {e["field"]: e["level"] for e in json.loads(str(pair["evidence"]))}


@pytest.mark.parametrize(("a", "b", "near"), [
    ("jmes", "james", True), ("michale", "michael", True), ("jno", "jon", True), ("aa", "ana", True),
    ("ana", "ana", True), ("abc", "bca", False), ("robert", "rob", False), ("erin", "elin", True), ("", "a", True),
])
def test_one_edit(a: str, b: str, near: bool) -> None:
    assert one_edit(a, b) is near and one_edit(b, a) is near


@pytest.mark.parametrize(("name", "group_of"), [
    ("tmomy", "thomas"),  # tommy with two letters swapped
    ("jmes", "james"),
    ("michale", "mike"),
    ("guadnlupe", "lupe"),
    ("robert", None),  # in the table: its own group, no correction
    ("dae", None),  # one edit from dan and from dave: two groups, no guess
    ("aa", None),  # too short to guess
    ("xavier", None),  # nothing near
])
def test_near_group(name: str, group_of: str | None) -> None:
    assert near_group(name) == (canonical_given(group_of) if group_of else None)


CASES = table(
    *BACKGROUND,
    # a misspelt nickname with the same birth date: one letter off, linked (not the twin guard)
    ("n1", "Thomas", "Garrison", "1998-11-25", "M", "4 Elm Ct", "60694", None),
    ("n2", "Tmomy", "Garrison", "1998-11-25", "M", "4 Elm Ct", "60694", None),
    # moved: street, ZIP and city all differ, counted once
    ("v1", "Ursula", "Quintero", "1969-04-18", "F", "12 Oak St", "60659", None),
    ("v2", "Ursula", "Quintero", "1969-04-18", "F", "900 Pine Ave", "60019", None),
    # a pharmacy-style record: name, birth date, ZIP only
    ("p1", "Wendell", "Ashby", "1950-02-14", "M", "77 Cedar Ln", "60411", None),
    ("p2", "Wendell", "Ashby", "1950-02-14", "M", None, "60411", None),
    # name-only records (a wearables account): Yolanda Kirschner is borne by one person
    ("w1", "Yolanda", "Kirschner", None, None, None, None, "yk@example.com"),
    ("k1", "Yolanda", "Kirschner", "1977-07-07", "F", "5 Maple Dr", "60201", None),
    ("k2", "Yolanda", "Kirschner", "07/07/1977", "F", "5 Maple Drive", "60201", None),
    # ... Xavier Lund by two different people: ambiguous, stays alone
    ("w2", "Xavier", "Lund", None, None, None, None, None),
    ("x1", "Xavier", "Lund", "1961-01-30", "M", "9 Ash St", "60302", None),
    ("x2", "Xavier", "Lund", "1990-08-03", "M", "31 Elm St", "60622", None),
    # ... Vera Holm by two people, one of whom has another email: the other one is hers
    ("w3", "Vera", "Holm", None, None, None, None, "vera@example.com"),
    ("h1", "Vera", "Holm", "1983-03-03", "F", "1 Bay Rd", "60101", "vholm@example.org"),
    ("h2", "Vera", "Holm", "1958-05-05", "F", "8 Cove Rd", "60102", None),
    # ... two name-only records with one name: neither joins
    ("w4", "Quentin", "Abara", None, None, None, None, None),
    ("w5", "Quentin", "Abara", None, None, None, None, None),
    ("q1", "Quentin", "Abara", "1972-12-12", "M", "6 Hill Rd", "60103", None),
    # a name-only record with the email of one person: linked on its score
    ("w6", "Pia", "Lindgren", None, None, None, None, "pia@example.com"),
    ("l1", "Pia", "Lindgren", "1990-09-09", "F", "2 Elm St", "60106", "pia@example.com"),
    # ... with the email of two people (another family name, born 25 years apart: never linked
    # to each other) and a name close to both: it would bridge them
    ("w7", "Olive", "Tanaka", None, None, None, None, "olive@example.com"),
    ("o1", "Olive", "Tanaka", "1980-01-01", "F", "3 Elm St", "60104", "olive@example.com"),
    ("o2", "Olive", "Brandt", "1955-05-05", "F", "9 Oak St", "60105", "olive@example.com"),
)


@pytest.fixture(scope="module")
def result() -> MatchResult:
    return match(CASES)


def test_misspelt_nickname_is_one_letter_off_and_links(result: MatchResult) -> None:
    p = pairs_of(result)[("n1", "n2")]
    assert levels(p)["given"] == "one letter off"
    assert p["decision"] == "link"


def test_a_move_is_one_address_disagreement(result: MatchResult) -> None:
    p = pairs_of(result)[("v1", "v2")]
    fields = [e["field"] for e in json.loads(str(p["evidence"]))]
    assert fields.count("address") == 1 and "postal" not in fields and "city" not in fields
    assert levels(p)["address"] == "different" and p["decision"] == "link"


def test_zip_only_record_compares_its_zip(result: MatchResult) -> None:
    assert levels(pairs_of(result)[("p1", "p2")])["address"] == "same postal code, street unknown"


def test_name_only_record_joins_the_one_person_bearing_its_name(result: MatchResult) -> None:
    c, pairs = clusters_of(result), pairs_of(result)
    assert c["w1"] == c["k1"] == c["k2"]
    joined = [p for (a, b), p in pairs.items() if "w1" in (a, b) and p["decision"] == "link"]
    assert len(joined) == 1 and joined[0]["rule"] == "unique_name"
    assert set(levels(joined[0])) == {"given", "family"}


def test_ambiguous_name_only_records_stay_alone(result: MatchResult) -> None:
    c = clusters_of(result)
    assert c["w2"] == "w2" and c["x1"] != c["x2"]  # two Xavier Lunds
    assert c["w4"] == "w4" and c["w5"] == "w5"  # two name-only Quentin Abaras
    assert c["q1"] == "q1"


def test_a_cluster_with_another_email_is_not_the_name_only_records_person(result: MatchResult) -> None:
    c = clusters_of(result)
    assert c["w3"] == c["h2"] and c["w3"] != c["h1"]


def test_name_only_record_with_a_persons_email_links(result: MatchResult) -> None:
    p = pairs_of(result)[("l1", "w6")]
    assert p["decision"] == "link" and p["rule"] == "probabilistic"
    assert levels(p)["email"] == "same"


def test_name_only_record_never_bridges_two_people(result: MatchResult) -> None:
    c, pairs = clusters_of(result), pairs_of(result)
    assert c["w7"] == "w7" and c["o1"] == "o1" and c["o2"] == "o2"
    assert pairs[("o1", "w7")]["decision"] == pairs[("o2", "w7")]["decision"] == "review"
    assert result.stats["bridging_pairs"] == 2


def test_thin_pairs_never_link_on_their_score() -> None:
    r = match(table(*BACKGROUND, ("a", "Zebulon", "Marchetti", None, None, None, None, None),
                    ("b", "Zebulon", "Marchetti", None, None, None, None, None)),
              MatchSettings(link_probability=0.5, review_probability=0.01, duplicates_per_record=1.0))
    p = pairs_of(r)[("a", "b")]
    assert p["probability"] > 0.5 and p["decision"] == "review"
    assert clusters_of(r)["b"] == "b"


def test_prior_is_estimated_and_weights_add_up(result: MatchResult) -> None:
    import math

    prior = float(result.stats["prior"])
    n = CASES.num_rows
    assert result.stats["duplicates_per_record"] == pytest.approx(prior * (n - 1), abs=1e-3)
    p = pairs_of(result)[("n1", "n2")]
    evidence = json.loads(str(p["evidence"]))
    assert p["match_weight"] == pytest.approx(math.log2(prior / (1 - prior)) + sum(e["weight"] for e in evidence),
                                              abs=0.01)
    assert p["probability"] == pytest.approx(1 / (1 + 2 ** -float(p["match_weight"])))  # type: ignore[arg-type]


def test_a_fixed_prior_is_used_as_given() -> None:
    r = match(CASES, MatchSettings(duplicates_per_record=2.0))
    assert r.stats["prior"] == pytest.approx(2.0 / (CASES.num_rows - 1))


def test_estimated_prior_has_a_floor() -> None:
    r = match(table(*BACKGROUND))  # nobody twice: the estimate would fall to zero
    assert r.stats["duplicates_per_record"] == pytest.approx(0.25)


def test_estimate_prior_by_hand() -> None:
    # 10 records = 45 pairs; three pairs certain matches, two certain non-matches: λ = 3/45
    con = duckdb_connect()
    start = 0.01
    weights = [100.0, 100.0, 100.0, -100.0, -100.0]
    logit = scoring.model.logit2(start)
    con.register("preds", pa.table({"match_weight": [w + logit for w in weights]}))
    assert scoring.estimate_prior(con, "preds", 10, start) == pytest.approx(3 / 45, rel=1e-3)
    # 3 records = 3 pairs, one scored at 10 bits: λ = P(match | 10 bits, λ) / 3, whose root is
    # 3 (1023 λ + 1) = 1024, λ = 1021 / 3069
    con.register("preds", pa.table({"match_weight": [10.0 + logit]}))
    assert scoring.estimate_prior(con, "preds", 3, start) == pytest.approx(1021 / 3069, rel=1e-3)


@pytest.mark.parametrize(("namesakes", "kept"), [(100, True), (101, False)])
def test_name_blocks_are_capped_at_100(namesakes: int, kept: bool) -> None:
    from medlake.silver.identity.features import prepare

    people = table(*[(f"r{i:03d}", "Ann", "Lee", None, None, None, None, None) for i in range(namesakes)])
    con = duckdb_connect()
    prepared = prepare(people)
    con.register("ml_prepared", prepared)
    keys = scoring.build_keys(con, prepared, 500, use_ssn=False)
    assert ("name" in keys) is kept
    assert con.execute("select count(k_name) from ml_keyed").fetchall()[0][0] == (namesakes if kept else 0)
