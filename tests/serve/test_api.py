"""The FHIR API over HTTP, checked against the lake read directly (the `medlake sql` session)."""

from __future__ import annotations

import importlib
import logging
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

FHIR_JSON = "application/fhir+json"


def _stored(sql: Any, table: str, where: str = "TRUE", values: list[Any] | None = None) -> list[dict[str, Any]]:
    rows = sql.execute(f"SELECT resource FROM silver.{table} WHERE {where} ORDER BY id", values or []).fetchall()
    return [orjson.loads(r[0]) for r in rows]


def _validate(res: dict[str, Any]) -> None:
    rtype = res["resourceType"]
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{rtype.lower()}"), rtype)
    model.model_validate(res)


def _all(client: Any, url: str, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every searchset bundle of a search, following `next` links."""
    pages = [client.get(url, params=params).json()]
    while (nxt := [link["url"] for link in pages[-1]["link"] if link["relation"] == "next"]):
        assert len(pages) < 500
        pages.append(client.get(nxt[0]).json())
    entries = [e for p in pages for e in p.get("entry", [])]
    return pages, entries


def _ids(client: Any, url: str, **params: Any) -> list[str]:
    params.setdefault("_count", 1000)
    return [e["resource"]["id"] for e in _all(client, url, **params)[1] if e["search"]["mode"] == "match"]


def _outcome(response: Any, status: int) -> str:
    assert response.status_code == status
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    _validate(body)
    return str(body["issue"][0]["diagnostics"])


def test_metadata_is_a_capability_statement_of_the_lake(client: Any, sql: Any) -> None:
    r = client.get("/metadata")
    assert r.status_code == 200 and r.headers["content-type"] == FHIR_JSON
    cap = r.json()
    _validate(cap)
    served = {res["type"]: res for res in cap["rest"][0]["resource"]}
    tables = {row[0] for row in sql.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'silver'").fetchall()}
    assert {t for t in tables if not t.endswith("_history")} == {_table(t) for t in served}
    patient = served["Patient"]
    assert {"name", "family", "given", "birthdate", "gender", "identifier", "_id", "_lastUpdated"} <= {p["name"] for p in patient["searchParam"]}
    assert "Observation:subject" in patient["searchRevInclude"]
    assert patient["operation"][0]["name"] == "everything"
    assert "Observation:patient" in served["Observation"]["searchInclude"]


def _table(rtype: str) -> str:
    from medlake.silver.schema import table_name

    return table_name(rtype)


def test_read_returns_the_stored_resource_with_last_updated(client: Any, sql: Any) -> None:
    stored = _stored(sql, "patient")[3]
    r = client.get(f"/Patient/{stored['id']}")
    assert r.status_code == 200 and r.headers["content-type"] == FHIR_JSON
    body = r.json()
    assert body["meta"]["lastUpdated"].endswith("Z")
    del body["meta"]["lastUpdated"]
    assert body == stored
    assert r.headers["etag"] == f'W/"{stored["meta"]["versionId"]}"'


def test_every_type_reads_and_validates_against_the_r4_models(client: Any, sql: Any) -> None:
    types = [res["type"] for res in client.get("/metadata").json()["rest"][0]["resource"]]
    for rtype in types:
        for res in _stored(sql, _table(rtype))[:3]:
            got = client.get(f"/{rtype}/{res['id']}").json()
            _validate(got)


def test_vread_and_history_of_a_changed_resource(client: Any, sql: Any) -> None:
    rid, last = sql.execute("SELECT id, max(version) FROM silver.observation_history GROUP BY id HAVING max(version) > 1 LIMIT 1").fetchone()
    first = client.get(f"/Observation/{rid}/_history/1")
    newest = client.get(f"/Observation/{rid}/_history/{last}")
    assert first.status_code == newest.status_code == 200
    assert first.json()["meta"]["versionId"] == "1" and newest.headers["etag"] == f'W/"{last}"'
    assert first.json() != newest.json()
    hist = client.get(f"/Observation/{rid}/_history").json()
    _validate(hist)
    assert hist["type"] == "history" and hist["total"] == last
    assert [e["resource"]["meta"]["versionId"] for e in hist["entry"]] == [str(v) for v in range(last, 0, -1)]
    assert hist["entry"][-1]["request"]["method"] == "POST" and hist["entry"][0]["request"]["method"] == "PUT"


def test_unknown_ids_versions_and_types_are_404(client: Any, sql: Any) -> None:
    rid = _stored(sql, "patient")[0]["id"]
    assert _outcome(client.get("/Patient/no-such-id"), 404) == "`Patient/no-such-id` is not in this server; search `GET /Patient` to find ids"
    assert _outcome(client.get(f"/Patient/{rid}/_history/99"), 404) == f"`Patient/{rid}/_history/99` is not in this server; search `GET /Patient` to find ids"
    assert _outcome(client.get("/Patient/no-such-id/_history"), 404).startswith("`Patient/no-such-id` is not in this server")
    assert _outcome(client.get("/Patient/no-such-id/$everything"), 404).startswith("`Patient/no-such-id` is not")
    assert _outcome(client.get("/Widget/1"), 404).startswith("resource type `Widget` is not served here; the types are: ")
    assert _outcome(client.post("/Patient", json={}), 405) == "POST /Patient: Method Not Allowed"


def test_paging_follows_next_links_until_total(client: Any, sql: Any) -> None:
    pages, entries = _all(client, "/Observation", _count=97)
    expected = [r["id"] for r in _stored(sql, "observation")]
    assert [e["resource"]["id"] for e in entries] == expected
    assert all(p["total"] == len(expected) for p in pages)
    assert len(pages) == -(-len(expected) // 97)
    assert all(len(p["entry"]) == 97 for p in pages[:-1])
    assert pages[0]["entry"][0]["fullUrl"] == f"http://testserver/Observation/{expected[0]}"
    _validate(pages[0])


def test_count_zero_gives_only_the_total(client: Any, sql: Any) -> None:
    body = client.get("/Patient", params={"_count": 0}).json()
    assert body["total"] == len(_stored(sql, "patient")) and body["entry"] == []


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


def _starts(values: list[str], prefix: str) -> bool:
    return any(_fold(v).startswith(_fold(prefix)) for v in values)


def _names(p: dict[str, Any]) -> list[str]:
    return [v for n in p.get("name", []) for v in [n.get("family", ""), *n.get("given", []), n.get("text", "")] if v]


def test_patient_string_token_and_date_parameters(client: Any, sql: Any) -> None:
    patients = _stored(sql, "patient")
    some = next(p for p in patients if p.get("birthDate") and p.get("gender"))
    family = some["name"][0]["family"]
    assert _ids(client, "/Patient", family=family[:3].upper()) == [
        p["id"] for p in patients if _starts([n.get("family", "") for n in p.get("name", [])], family[:3])
    ]
    given = some["name"][0]["given"][0]
    assert _ids(client, "/Patient", name=given[:2]) == [p["id"] for p in patients if _starts(_names(p), given[:2])]
    assert _ids(client, "/Patient", gender=some["gender"]) == [p["id"] for p in patients if p.get("gender") == some["gender"]]
    born = some["birthDate"]
    assert _ids(client, "/Patient", birthdate=f"le{born}") == [p["id"] for p in patients if p.get("birthDate") and p["birthDate"] <= born]
    assert _ids(client, "/Patient", birthdate=born[:4]) == [p["id"] for p in patients if p.get("birthDate", "").startswith(born[:4])]
    ident = some["identifier"][0]
    assert _ids(client, "/Patient", identifier=f"{ident['system']}|{ident['value']}") == [
        p["id"] for p in patients if any(i.get("system") == ident["system"] and i.get("value") == ident["value"] for i in p.get("identifier", []))
    ]
    two = sorted([patients[0]["id"], patients[5]["id"]])
    assert _ids(client, "/Patient", _id=",".join(two)) == two
    assert _ids(client, "/Patient", _lastUpdated="lt2000") == []
    assert len(_ids(client, "/Patient", _lastUpdated="ge2000-01-01")) == len(patients)


def _instant(text: str) -> datetime:
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    return datetime.fromisoformat(text).astimezone(UTC)


def test_clinical_parameters(client: Any, sql: Any) -> None:
    obs = _stored(sql, "observation")
    pid = sql.execute("SELECT patient_id FROM silver.observation GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    by_patient = [r[0] for r in sql.execute("SELECT id FROM silver.observation WHERE patient_id = ? ORDER BY id", [pid]).fetchall()]
    assert _ids(client, "/Observation", patient=pid) == by_patient
    assert _ids(client, "/Observation", subject=f"Patient/{pid}") == [o["id"] for o in obs if o.get("subject", {}).get("reference") == f"Patient/{pid}"]
    coding = obs[0]["code"]["coding"][0]
    with_code = [o["id"] for o in obs if any(c.get("system") == coding["system"] and c["code"] == coding["code"] for c in o["code"]["coding"])]
    assert _ids(client, "/Observation", code=f"{coding['system']}|{coding['code']}") == with_code
    assert _ids(client, "/Observation", code=f"|{coding['code']}") == []
    assert _ids(client, "/Observation", status="final") == [o["id"] for o in obs if o.get("status") == "final"]
    cat = obs[0]["category"][0]["coding"][0]["code"]
    assert _ids(client, "/Observation", category=cat) == [o["id"] for o in obs if any(c["code"] == cat for k in o.get("category", []) for c in k["coding"])]
    since = datetime(2023, 6, 15, tzinfo=UTC)
    dated = [o["id"] for o in obs if "effectiveDateTime" in o and _instant(o["effectiveDateTime"]) >= since]
    assert _ids(client, "/Observation", date="ge2023-06-15") == dated
    enc = next(o["encounter"]["reference"] for o in obs if "encounter" in o)
    assert _ids(client, "/Observation", encounter=enc) == [o["id"] for o in obs if o.get("encounter", {}).get("reference") == enc]
    both = _ids(client, "/Observation", patient=pid, status="final", _count=5)
    assert both == [o["id"] for o in obs if o["id"] in set(by_patient) and o.get("status") == "final"]


def test_include_and_revinclude(client: Any, sql: Any) -> None:
    first = client.get("/Observation", params={"_count": 10, "_include": "Observation:patient"}).json()
    matched = [e["resource"]["id"] for e in first["entry"] if e["search"]["mode"] == "match"]
    patients = {r[0] for r in sql.execute("SELECT patient_id FROM silver.observation WHERE list_contains(?, id)", [matched]).fetchall()}
    included = [e["resource"] for e in first["entry"] if e["search"]["mode"] == "include"]
    assert {r["id"] for r in included} == patients and {r["resourceType"] for r in included} == {"Patient"}
    pid = next(iter(patients))
    body = client.get("/Patient", params={"_id": pid, "_revinclude": "Observation:subject"}).json()
    rev = [e["resource"]["id"] for e in body["entry"] if e["search"]["mode"] == "include"]
    expected = [o["id"] for o in _stored(sql, "observation") if o.get("subject", {}).get("reference") == f"Patient/{pid}"]
    assert sorted(rev) == expected and body["total"] == 1
    enc = client.get("/Encounter", params={"_count": 3, "_include": "Encounter:patient"}).json()
    assert {e["resource"]["resourceType"] for e in enc["entry"] if e["search"]["mode"] == "include"} == {"Patient"}


def test_patient_everything_is_the_patient_compartment(client: Any, sql: Any) -> None:
    pid = sql.execute("SELECT patient_id FROM silver.encounter LIMIT 1").fetchone()[0]
    body = client.get(f"/Patient/{pid}/$everything").json()
    _validate(body)
    types = [res["type"] for res in client.get("/metadata").json()["rest"][0]["resource"] if res["type"] != "Patient"]
    expected = sum(sql.execute(f"SELECT count(*) FROM silver.{_table(t)} WHERE patient_id = ?", [pid]).fetchone()[0] for t in types)
    assert body["total"] == len(body["entry"]) == expected + 1
    assert body["entry"][0]["resource"]["id"] == pid


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/Patient?_count=abc", "search parameter `_count`: must be a whole number from 0 to 1000"),
        ("/Patient?_count=5000", "search parameter `_count`: must be a whole number from 0 to 1000"),
        ("/Patient?_cursor=%%%", "search parameter `_cursor`: not a cursor this server made; follow the `next` link as given"),
        ("/Patient?_include=Patient:organization", "search parameter `_include`: `Patient:organization` is not supported here; use one of: none"),
        ("/Observation?_include=Encounter:patient", "search parameter `_include`: `Encounter:patient` is not supported here; use one of: Observation:patient, Observation:subject, Observation:encounter"),
        ("/Practitioner?_revinclude=Observation:subject", "search parameter `_revinclude`: `Observation:subject` is not supported here; use one of: none"),
        ("/Observation?value-quantity=5", "search parameter `value-quantity`: not supported on Observation; supported: _id, _lastUpdated, category, code, date, encounter, identifier, patient, status, subject, plus _count, _cursor, _include, _revinclude, _format, _total"),
        ("/Observation?date=yesterday", "search parameter `date`: is not a FHIR date: write YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[Z|±hh:mm]"),
    ],
)
def test_bad_searches_are_400_with_the_parameter_named(client: Any, url: str, message: str) -> None:
    assert _outcome(client.get(url), 400) == message


def test_auth_and_audit_hooks(project: Any, sql: Any) -> None:
    from fastapi.testclient import TestClient

    from medlake.serve.app import Access, create_app
    from medlake.serve.outcome import ApiError

    audited: list[tuple[str, str, int, object]] = []
    asked: list[tuple[str, str]] = []

    def auth(request: Any, resource_type: str, interaction: str) -> Access:
        asked.append((resource_type, interaction))
        if request.headers.get("authorization") != "Bearer good":
            raise ApiError(401, "login", "a bearer token is required")
        return Access("alice")

    def audit(request: Any, principal: object, action: str, resource_type: str, count: int) -> None:
        audited.append((action, resource_type, count, principal))

    client = TestClient(create_app(project, "demo", auth=auth, audit=audit))
    pid = _stored(sql, "patient")[0]["id"]
    assert _outcome(client.get(f"/Patient/{pid}"), 401) == "a bearer token is required"
    assert audited == []
    ok = {"Authorization": "Bearer good"}
    assert client.get(f"/Patient/{pid}", headers=ok).status_code == 200
    assert audited == [("read", "Patient", 1, "alice")]
    audited.clear()
    body = client.get("/Observation", params={"_count": 4, "_include": "Observation:patient"}, headers=ok).json()
    n_patients = sum(1 for e in body["entry"] if e["search"]["mode"] == "include")
    assert audited == [("search", "Observation", 4, "alice"), ("search", "Patient", n_patients, "alice")]
    assert asked[-2:] == [("Observation", "search"), ("Patient", "search")]
    assert client.get("/metadata").status_code == 200  # the CapabilityStatement is public


def test_a_patient_bound_caller_sees_only_that_patients_compartment(project: Any, sql: Any) -> None:
    from fastapi.testclient import TestClient

    from medlake.serve.app import Access, create_app

    pid, other = [r[0] for r in sql.execute(
        "SELECT patient_id FROM silver.observation GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2"
    ).fetchall()]
    client = TestClient(create_app(project, "demo", auth=lambda request, rtype, interaction: Access("bob", pid)))
    assert client.get(f"/Patient/{pid}").status_code == 200
    assert _outcome(client.get(f"/Patient/{other}"), 404).startswith(f"`Patient/{other}` is not in this server")
    other_obs = sql.execute("SELECT id FROM silver.observation WHERE patient_id = ? LIMIT 1", [other]).fetchone()[0]
    assert client.get(f"/Observation/{other_obs}").status_code == 404
    assert client.get(f"/Observation/{other_obs}/_history").status_code == 404
    own = [r[0] for r in sql.execute("SELECT id FROM silver.observation WHERE patient_id = ? ORDER BY id", [pid]).fetchall()]
    assert _ids(client, "/Observation") == own
    assert _ids(client, "/Observation", patient=other) == []
    assert _ids(client, "/Patient") == [pid]
    assert client.get(f"/Patient/{other}/$everything").status_code == 404


def test_server_log_has_paths_and_statuses_never_query_values(client: Any, sql: Any, caplog: pytest.LogCaptureFixture) -> None:
    family = _stored(sql, "patient")[0]["name"][0]["family"]
    with caplog.at_level(logging.INFO, logger="medlake.serve"):
        client.get("/Patient", params={"family": family})
        client.get("/Patient", params={"family": family, "bogus": family})
    assert "GET /Patient -> 200" in caplog.text and "GET /Patient -> 400" in caplog.text
    assert family not in caplog.text
