"""The status dashboard (/ui) over HTTP, on a small two-tenant lake written here by hand.

The lake's history is written through the lake's own writers (`RunLog`, the manifest and
quarantine Delta tables, `_meta/check_results` with the quality model's `RESULT_SCHEMA`) and a
gold file with the Patient 360 marts, so every state of the matrix is set up on purpose:

    acme  lab     (delimited) landed, bronze + silver + gold built, a failing silver check → silver testing
    acme  claims  (x12)       landed, bronze run failed                       → bronze building
    acme  adt     (hl7v2)     nothing landed                                   → untouched
    beta  feed    (fhir)      everything built, checks pass                    → live (gold: legacy retired in status.yaml)

and acme lab's gold is `parallel` in status.yaml.

Tokens are HS256 JWTs checked by the project's `serve.auth`, as `medlake serve` does.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pyarrow as pa
import pytest

from medlake.config import ProjectConfig, load_config
from medlake.lake import delta, quarantine
from medlake.lake.audit import AuditLog
from medlake.lake.catalog import duckdb_connect
from medlake.lake.manifest import MANIFEST_SCHEMA
from medlake.lake.paths import TenantLake
from medlake.lake.runlog import RunLog
from medlake.quality.model import RESULT_SCHEMA

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SECRET_ENV = "MEDLAKE_TEST_UI_SECRET"
SECRET = "dashboard-test-secret-0123456789abcdef-xyz"
AUD = "https://fhir.example.org"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CONFIG = f"""
lake: ./lake
tenants:
  - name: acme
    sources:
      - {{name: lab, kind: delimited, location: in/lab, mapping: patients}}
      - {{name: claims, kind: x12, location: in/claims}}
      - {{name: adt, kind: hl7v2, location: in/adt}}
  - name: beta
    sources:
      - {{name: feed, kind: fhir, location: in/feed}}
serve:
  auth:
    audience: {AUD}
    algorithms: [HS256]
    secret_env: {SECRET_ENV}
"""
STATUS_YAML = """
beta:
  feed:
    gold: {state: legacy retired, note: "reports moved off the <b>legacy</b> warehouse", since: 2026-11-20}
acme:
  lab:
    gold: {state: parallel}
"""
SENTENCE = "`birth_date` is missing in 4.0% of lab patients (4 / 100)"
QUERY = "select id from silver.patient where source = 'lab' and birth_date is null"


def _runs(lake: TenantLake, run_id: str, steps: list[tuple[str, str | None, int, str]], at: datetime) -> None:
    log = RunLog(lake, run_id)
    for stage, source, rows, status in steps:
        try:
            with log.step(stage, source, f"{stage}/{source}") as rec:
                rec.started_at, rec.rows_out = at, rows
                if status != "ok":
                    raise RuntimeError("boom")
        except RuntimeError:
            pass


def _manifest(lake: TenantLake, source: str, n: int) -> None:
    rows = [
        {"tenant": lake.tenant, "source": source, "object_sha256": f"{source}{i:060d}", "object_key": f"landing/{source}/{i}",
         "original_name": f"{source}_{i}.txt", "size": 100, "received_at": T0, "event": "landed", "reason": None,
         "batch_id": "b1", "event_at": T0}
        for i in range(n)
    ]
    delta.append(lake.meta("manifest"), pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA), lake.delta_options())


def check_row(tenant: str, check_id: str, source: str | None, status: str, *, table: str = "silver.patient",
              severity: str = "error", sentence: str = SENTENCE, query: str = QUERY, blocks: list[str] | None = None,
              run_id: str = "r2", at: datetime = T0) -> dict[str, Any]:
    return {
        "run_id": run_id, "tenant": tenant, "check_id": check_id, "table_name": table, "source": source,
        "category": "completeness", "dimension": "completeness", "severity": severity, "status": status,
        "failing_rows": 4 if status == "fail" else 0, "total_rows": 100, "threshold_pct": 1.0, "sentence": sentence,
        "query": query, "blocks": blocks or [], "checked_at": at,
    }


def write_checks(lake: TenantLake, rows: list[dict[str, Any]]) -> None:
    delta.append(lake.meta("check_results"), pa.Table.from_pylist(rows, schema=RESULT_SCHEMA), lake.delta_options())


def _gold(lake: TenantLake) -> None:
    path = Path(lake.gold_db)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb_connect(str(path))
    con.execute(
        "create table patient_360 as select 'per-1' as person_id, ['pat-1', 'pat-2'] as patient_ids, 2 as patient_count, "
        "'Quillon' as family_name, 'Amadea' as given_name, date '1970-03-01' as birth_date, 56 as age_years, 'female' as gender, "
        "['lab'] as sources, ['Type 2 diabetes mellitus'] as active_problems, 3 as encounters_total"
    )
    con.execute(
        "create table fct_encounters as select 'enc-1' as encounter_id, 'per-1' as person_id, timestamp '2026-10-01 09:00' as period_start, "
        "timestamp '2026-10-01 10:00' as period_end, 'AMB' as class_code, 'Office visit' as type_display, 'lab' as source, 'finished' as status"
    )
    con.execute(
        "create table fct_conditions as select 'cond-1' as condition_id, 'per-1' as person_id, 'E11.9' as code, "
        "'Type 2 diabetes mellitus' as code_display, 'active' as clinical_status, timestamp '2020-01-01' as onset_at, 'lab' as source"
    )
    con.close()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectConfig:
    root = tmp_path_factory.mktemp("ui_lake")
    (root / "medlake.yaml").write_text(CONFIG)
    (root / "status.yaml").write_text(STATUS_YAML)
    config = load_config(root / "medlake.yaml")
    acme = TenantLake.open(config.lake_uri(), "acme")
    _manifest(acme, "lab", 3)
    _manifest(acme, "claims", 1)
    _runs(acme, "r1", [("land", "lab", 3, "ok"), ("bronze", "lab", 90, "ok"), ("silver", "lab", 80, "ok"), ("gold", None, 5, "ok")], T0)
    _runs(acme, "r2", [("bronze", "lab", 100, "ok"), ("silver", "lab", 95, "ok"), ("land", "claims", 1, "ok"),
                       ("bronze", "claims", 0, "failed"), ("gold", None, 5, "ok")], T0 + timedelta(days=1))
    quarantine.write(acme, [quarantine.Quarantined("lab", "bronze", "ab" * 32, "lab_2.txt", 7, "line 8 col 3",
                                                   "date `birth_date` is not YYYY-MM-DD", raw="SECRET-RAW-VALUE")], "b1")
    write_checks(acme, [
        check_row("acme", "patient.birth_date.not_null", "lab", "pass", run_id="r1", at=T0),
        check_row("acme", "patient.birth_date.not_null", "lab", "fail", at=T0 + timedelta(days=1)),
        check_row("acme", "bronze.truncation", "lab", "pass", table="bronze", at=T0 + timedelta(days=1)),
        check_row("acme", "claims.balanced", None, "fail", table="silver.claim", blocks=["rcm_claims", "rcm_denials"]),
        check_row("acme", "escape.test", "<script>alert(1)</script>", "fail", severity="info",
                  sentence="<img src=x onerror=alert(2)>", query="select '<b>'"),
    ])
    _gold(acme)
    beta = TenantLake.open(config.lake_uri(), "beta")
    _manifest(beta, "feed", 2)
    _runs(beta, "r1", [("land", "feed", 2, "ok"), ("bronze", "feed", 20, "ok"), ("silver", "feed", 20, "ok"), ("gold", None, 2, "ok")], T0)
    write_checks(beta, [check_row("beta", "patient.birth_date.not_null", "feed", "pass")])
    return config


def token(tenant: str = "acme", scope: str = "user/*.rs", **claims: Any) -> str:
    body = {"sub": "nurse-7", "aud": AUD, "exp": int(time.time()) + 600, "tenant": tenant, "scope": scope, **claims}
    return jwt.encode(body, SECRET, algorithm="HS256")


def _client(app: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app)


@pytest.fixture(scope="module")
def open_client(project: ProjectConfig) -> Iterator[Any]:
    from medlake.serve.app import anonymous, create_app

    with _client(create_app(project, "acme", auth=anonymous)) as c:
        yield c


@pytest.fixture()
def secured(project: ProjectConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from medlake.serve.app import create_app

    monkeypatch.setenv(SECRET_ENV, SECRET)
    with _client(create_app(project, "acme")) as c:
        yield c


def cells(html: str, tenant_source: str) -> str:
    """The row of the matrix for `source` (the text from its link to the end of its row)."""
    start = html.index(f'href="/ui/{tenant_source}"')
    return html[start: html.index("</tr>", start)]


def test_matrix_shows_every_tenant_and_source_with_its_states(open_client: Any) -> None:
    r = open_client.get("/ui")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    for tenant in ("acme", "beta"):
        assert f'href="/ui/{tenant}/quality"' in html
    lab, claims, adt, feed = (cells(html, p) for p in ("acme/sources/lab", "acme/sources/claims", "acme/sources/adt", "beta/sources/feed"))
    assert 'data-layer="bronze" data-state="live"' in lab
    assert 'data-layer="silver" data-state="testing"' in lab
    assert 'data-layer="gold" data-state="parallel"' in lab
    assert 'data-layer="bronze" data-state="building"' in claims and 'data-layer="gold" data-state="building"' in claims
    assert all(f'data-layer="{layer}" data-state="untouched"' in adt for layer in ("bronze", "silver", "gold"))
    assert 'data-layer="silver" data-state="live"' in feed


def test_status_yaml_overrides_a_cell_and_its_note_is_escaped(open_client: Any) -> None:
    feed = cells(open_client.get("/ui").text, "beta/sources/feed")
    assert 'data-layer="gold" data-state="legacy retired"' in feed
    assert "reports moved off the &lt;b&gt;legacy&lt;/b&gt; warehouse" in feed
    assert "since 2026-11-20" in feed


def test_customers_are_grouped_by_what_gates_them(open_client: Any) -> None:
    html = open_client.get("/ui").text
    assert "<b>waiting on HL7 v2</b> (1)" in html  # acme: adt is untouched, its least advanced cell
    assert "<b>live</b> (1)" in html  # beta: live, its gold cell past it (legacy retired)
    assert "<td>FHIR</td><td class=\"num\">1</td><td class=\"num\">1</td>" in html
    assert "<td>X12</td><td class=\"num\">0</td><td class=\"num\">1</td>" in html


def test_source_names_from_data_are_escaped(open_client: Any) -> None:
    html = open_client.get("/ui/acme/quality").text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html


def test_failing_check_shows_on_its_source_page_with_sentence_and_query(open_client: Any) -> None:
    r = open_client.get("/ui/acme/sources/lab")
    assert r.status_code == 200
    html = r.text
    assert "patient.birth_date.not_null" in html
    assert "`birth_date` is missing in 4.0% of lab patients (4 / 100)" in html
    assert "select id from silver.patient where source = &#x27;lab&#x27; and birth_date is null" in html
    assert html.index(">fail<") < html.index(">pass<")  # failures first
    assert "<svg" in html and "bronze records" in html and "silver resources" in html
    assert "date `birth_date` is not YYYY-MM-DD" in html and "SECRET-RAW-VALUE" not in html  # reasons, never record values


def test_pages_of_a_missing_table_or_unknown_source_do_not_fail(open_client: Any) -> None:
    assert open_client.get("/ui/acme/sources/adt").status_code == 200  # nothing landed: empty states
    assert "no runs yet" in open_client.get("/ui/acme/sources/adt").text
    missing = open_client.get("/ui/acme/sources/nope")
    assert missing.status_code == 404 and "tenant `acme` has no source `nope`" in missing.text
    assert open_client.get("/ui/zeta/quality").status_code == 404


def test_quality_page_scores_by_source_and_dimension(open_client: Any) -> None:
    html = open_client.get("/ui/acme/quality").text
    # lab: the not-null check failed, the truncation check passed → 50%
    assert 'href="/ui/acme/sources/lab">lab</a></td><td class="num">50%</td>' in html
    assert "<svg" in html


def test_counts_pages_need_a_token_for_the_served_tenant_when_auth_is_on(secured: Any) -> None:
    r = secured.get("/ui")
    assert r.status_code == 401 and "no bearer token" in r.text
    ok = secured.get("/ui", headers={"Authorization": f"Bearer {token(scope='user/Observation.rs')}"})
    assert ok.status_code == 200
    assert 'href="/ui/acme/quality"' in ok.text and "beta" not in ok.text  # only the token's tenant
    other = secured.get("/ui/beta/quality", headers={"Authorization": f"Bearer {token()}"})
    assert other.status_code == 403 and "this server serves tenant `acme`" in other.text


def test_patient_360_needs_auth_is_audited_and_404s_for_an_unknown_person(secured: Any, project: ProjectConfig) -> None:
    log = AuditLog(TenantLake.open(project.lake_uri(), "acme"))
    before = len(list(log.entries()))
    assert secured.get("/ui/acme/patients/per-1").status_code == 401
    denied = secured.get("/ui/acme/patients/per-1", headers={"Authorization": f"Bearer {token(scope='user/Observation.rs')}"})
    assert denied.status_code == 403
    assert len(list(log.entries())) == before  # nothing shown, nothing audited
    r = secured.get("/ui/acme/patients/per-1", headers={"Authorization": f"Bearer {token()}"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert "Quillon" in r.text and "Office visit" in r.text and "E11.9" in r.text
    new = list(log.entries())[before:]
    assert [(e["action"], e["resource_type"], e["count"], e["who"]) for e in new] == [
        ("read", "Patient", 1, "nurse-7"), ("search", "Encounter", 1, "nurse-7"), ("search", "Condition", 1, "nurse-7"),
    ]
    unknown = secured.get("/ui/acme/patients/per-404", headers={"Authorization": f"Bearer {token()}"})
    assert unknown.status_code == 404 and "no person `per-404` in gold.patient_360" in unknown.text


def test_patient_token_sees_only_its_own_person(secured: Any) -> None:
    own = token(scope="patient/*.rs", patient="pat-2")
    assert secured.get("/ui/acme/patients/per-1", headers={"Authorization": f"Bearer {own}"}).status_code == 200
    other = token(scope="patient/*.rs", patient="pat-9")
    assert secured.get("/ui/acme/patients/per-1", headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_login_keeps_the_token_in_a_cookie(secured: Any) -> None:
    bad = secured.get("/ui/login", params={"token": "not-a-jwt"}, follow_redirects=False)
    assert bad.status_code == 401
    r = secured.get("/ui/login", params={"token": token()}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    assert secured.get("/ui/acme/patients/per-1").status_code == 200  # the client sends the cookie back


@pytest.mark.parametrize(("text", "message"), [
    ("acme: [lab]", "status.yaml: `acme`: must be a mapping (tenant → source → layer → {state, note, since}), not list"),
    ("acme: {lab: {platinum: {state: live}}}", "status.yaml: `acme.lab.platinum`: `platinum` is not a layer; use one of: bronze, silver, gold"),
    ("acme: {lab: {gold: {state: done}}}",
     "status.yaml: `acme.lab.gold.state`: must be one of: untouched, building, testing, parallel, cutover, live, legacy retired; got 'done'"),
    ("acme: {lab: {gold: {state: live, since: soon}}}", "status.yaml: `acme.lab.gold.since`: must be a date YYYY-MM-DD; got 'soon'"),
    ("acme: {lab: {gold: {state: live, owner: ann}}}", "status.yaml: `acme.lab.gold.owner`: unknown key; the keys are state, note and since"),
])
def test_bad_status_yaml_is_named_by_key(tmp_path: Path, text: str, message: str) -> None:
    from medlake.errors import ConfigError
    from medlake.serve.ui.overrides import load_overrides

    (tmp_path / "status.yaml").write_text(text)
    with pytest.raises(ConfigError) as e:
        load_overrides(tmp_path / "status.yaml")
    assert e.value.message == message
    assert load_overrides(tmp_path / "absent.yaml") == {}


def test_a_bad_status_yaml_shows_a_banner_not_an_error(project: ProjectConfig, tmp_path: Path) -> None:
    from medlake.serve.app import anonymous, create_app

    broken = project.model_copy(update={"status_file": str(tmp_path / "status.yaml")})
    (tmp_path / "status.yaml").write_text("beta: {feed: {gold: {state: done}}}")
    with _client(create_app(broken, "acme", auth=anonymous)) as c:
        r = c.get("/ui")
    assert r.status_code == 200
    assert "status overrides not applied: status.yaml: `beta.feed.gold.state`: must be one of" in r.text
    assert 'data-layer="gold" data-state="legacy retired"' not in r.text


def test_a_blocking_check_shows_which_marts_it_stops(open_client: Any) -> None:
    html = open_client.get("/ui").text
    claims = cells(html, "acme/sources/claims")
    assert 'data-layer="gold" data-state="building"' in claims  # claims' bronze failed: below is not built
    # acme has no source whose gold is built and not overridden; the quality page names the blocked marts
    quality = open_client.get("/ui/acme/quality").text
    assert "<td>rcm_claims</td><td>claims.balanced</td>" in quality
    assert "<td>rcm_denials</td><td>claims.balanced</td>" in quality
    assert "acme</a><br><span class=\"note\">1 tenant-wide failing check(s)</span>" in html


def test_gold_cell_of_a_blocked_mart_is_testing_and_names_it() -> None:
    from medlake.serve.ui.facts import LastRun, TenantFacts, results_of
    from medlake.serve.ui.states import source_cells

    ok = LastRun("ok", T0, 10)
    facts = TenantFacts(landed={"lab": 1}, runs={("bronze", "lab"): ok, ("silver", "lab"): ok, ("gold", ""): ok})
    facts.results = results_of([(
        "claims.balanced", "silver.claim", None, "accuracy", "error", "fail", 2, 10, "s", "q", ["rcm_claims"], "r", T0,
    )])
    got = source_cells(facts, "lab")
    assert [got[layer].state for layer in ("bronze", "silver", "gold")] == ["live", "live", "testing"]
    assert got["gold"].blocked == ("rcm_claims (claims.balanced)",)
    assert got["gold"].why == "1 failing check(s): claims.balanced"
