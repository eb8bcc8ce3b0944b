"""The dashboard's pages, as functions of what they show → one HTML document each.

The matrix, source and quality pages show counts, statuses, and the checks' own sentences and
queries, never record values. The Patient 360 page shows one person (PHI): its route checks the
caller's token and writes the audit log before this renders it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from medlake.serve.ui.charts import line_chart
from medlake.serve.ui.facts import Catalog, Result, latest_results
from medlake.serve.ui.html import badge, esc, link, num, page, state_badge, table, url_part
from medlake.serve.ui.overrides import LAYERS, STATES
from medlake.serve.ui.states import TenantStatus, live_by_kind


def _when(t: datetime | None) -> str:
    return "never" if t is None else f"{t:%Y-%m-%d %H:%M:%S}Z"


def _nav(tenant: str) -> list[tuple[str, str]]:
    return [(f"/ui/{url_part(tenant)}/quality", f"{tenant} quality")]


def matrix_page(statuses: list[TenantStatus], banner: str | None = None) -> str:
    parts = []
    if banner:
        parts.append(f'<div class="banner">{esc(banner)}</div>')
    parts.append('<p class="legend">' + "".join(state_badge(s) for s in STATES) + "</p>")
    parts.append("<h2>Customers live per ingest shape</h2>")
    parts.append(table(["source kind", "customers live", "customers with it"],
                       ([esc(k), num(live), num(total)] for k, live, total in live_by_kind(statuses)), numeric=(1, 2)))
    parts.append("<h2>What gates each customer</h2>")
    groups: dict[str, list[TenantStatus]] = {}
    for t in statuses:
        groups.setdefault(t.gate, []).append(t)
    items = []
    for gate in sorted(groups, key=lambda g: (g == "live", g)):
        members = ", ".join(
            link(f"/ui/{url_part(t.tenant)}/quality", t.tenant) + (f' <span class="note">({esc(t.gate_detail)})</span>' if t.gate_detail else "")
            for t in groups[gate]
        )
        items.append(f"<li><b>{esc(gate)}</b> ({len(groups[gate])}): {members}</li>")
    parts.append(f'<ul class="groups">{"".join(items)}</ul>' if items else '<p class="empty">no tenants configured</p>')
    parts.append("<h2>Medallion status</h2>")
    parts.append(_matrix(statuses))
    return page("Medallion status matrix", "".join(parts))


def _matrix(statuses: list[TenantStatus]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("tenant", "source", "kind", *LAYERS, "last run"))
    rows = []
    for t in statuses:
        span = max(len(t.sources), 1)
        extra = f'<br><span class="note">{t.tenant_wide_failing} tenant-wide failing check(s)</span>' if t.tenant_wide_failing else ""
        first = f'<td rowspan="{span}">{link(f"/ui/{url_part(t.tenant)}/quality", t.tenant)}{extra}</td>'
        if not t.sources:
            rows.append(f'<tr>{first}<td colspan="{len(LAYERS) + 3}" class="empty">no sources</td></tr>')
        for i, s in enumerate(t.sources):
            cells = []
            for layer in LAYERS:
                c = s.cells[layer]
                tip = c.why
                if c.override is not None:
                    tip = "; ".join(x for x in ("curated", c.override.note, f"since {c.override.since}" if c.override.since else None) if x)
                note = f'<br><span class="note">{esc(c.override.note)}</span>' if c.override and c.override.note else ""
                if c.blocked:
                    note += f'<br><span class="note">blocked: {esc(", ".join(c.blocked))}</span>'
                cells.append(f'<td class="cell" data-layer="{layer}" data-state="{esc(c.state)}">{state_badge(c.state, tip)}{note}</td>')
            src = link(f"/ui/{url_part(t.tenant)}/sources/{url_part(s.source)}", s.source)
            rows.append(f'<tr>{first if i == 0 else ""}<td>{src}</td><td>{esc(s.kind)}</td>{"".join(cells)}<td>{esc(_when(s.last_run))}</td></tr>')
    if not rows:
        return '<p class="empty">no tenants configured</p>'
    return f'<table class="matrix"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _checks(results: list[Result]) -> str:
    rows = []
    for r in results:
        blocks = ", ".join(r.blocks) if r.blocks else ""
        rows.append([
            badge(r.status), esc(r.check_id), esc(r.severity), esc(r.dimension),
            f"{esc(r.sentence)}<pre><code>{esc(r.query)}</code></pre>", f"{num(r.failing)} / {num(r.total)}",
            esc(blocks) + (" " + badge("blocking", "#f87171") if r.blocking else ""), esc(_when(r.checked_at)),
        ])
    return table(["status", "check", "severity", "dimension", "finding and the query that reproduces it", "failing / total", "blocks", "checked"],
                 rows, empty="no check results yet: run `medlake check`")


def source_page(cat: Catalog, source: str, kind: str) -> str:
    src = [source]
    parts = [f'<p>tenant {link(f"/ui/{url_part(cat.tenant)}/quality", cat.tenant)} · kind {esc(kind)}</p>']
    objects = cat.rows("select count(distinct object_sha256) from meta.manifest where source = ?", src, needs="meta.manifest")
    parts.append(f"<p>objects landed: <b>{num(int(objects[0][0]) if objects else 0)}</b></p>")
    parts.append("<h2>Row counts over time</h2>")
    series: dict[str, list[tuple[str, float]]] = {}
    for stage, started, rows_out in cat.rows(
        "select stage, min(t), sum(rows_out) from (select stage, rows_out, run_id, min(started_at) over (partition by run_id) as t "
        "from meta.runs where source = ? and stage in ('bronze', 'silver') and status = 'ok') group by run_id, stage order by 2",
        src, needs="meta.runs",
    ):
        label = "bronze records" if stage == "bronze" else "silver resources"
        series.setdefault(label, []).append((f"{started:%m-%d %H:%M:%S}", float(rows_out or 0)))
    parts.append(line_chart(series, y_label="rows"))
    parts.append("<h2>Check results</h2>")
    parts.append(_checks(latest_results(cat, source)))
    parts.append("<h2>Recent runs</h2>")
    runs = cat.rows(
        "select run_id, stage, table_name, rows_in, rows_out, quarantined, status, started_at, duration_s, message "
        "from meta.runs where source = ? order by started_at desc limit 30", src, needs="meta.runs",
    )
    parts.append(table(
        ["run", "stage", "table", "rows in", "rows out", "quarantined", "status", "started", "seconds", "message"],
        ([esc(r[0]), esc(r[1]), esc(r[2]), num(r[3]), num(r[4]), num(r[5]), badge(str(r[6])), esc(_when(r[7])),
          num(round(float(r[8] or 0), 2)), esc(r[9])] for r in runs),
        numeric=(3, 4, 5, 8), empty="no runs yet",
    ))
    parts.append("<h2>Quarantined objects</h2>")
    quarantined = cat.rows(
        "select object_name, stage, reason, count(*) as n, max(quarantined_at) as t from meta.quarantine where source = ? "
        "group by object_name, stage, reason order by t desc, object_name limit 100", src, needs="meta.quarantine",
    )
    parts.append(table(["object", "stage", "reason", "records", "latest"],
                       ([esc(q[0]), esc(q[1]), esc(q[2]), num(q[3]), esc(_when(q[4]))] for q in quarantined),
                       numeric=(3,), empty="nothing quarantined"))
    return page(f"{cat.tenant} / {source}", "".join(parts), nav=_nav(cat.tenant))


def score(results: list[Result]) -> float | None:
    """The share of checks that passed, percent (not-applicable ones left out); None without any."""
    judged = [r for r in results if r.status in ("pass", "fail", "error")]
    return 100.0 * sum(r.status == "pass" for r in judged) / len(judged) if judged else None


def quality_page(cat: Catalog) -> str:
    latest = latest_results(cat)
    dims = sorted({r.dimension for r in latest})
    parts = ['<p class="note">score: the percentage of checks that passed in their latest run (not-applicable ones left out).</p>']
    parts.append("<h2>Scores by source and dimension</h2>")
    groups = sorted({r.source or "" for r in latest})
    rows = []
    for g in groups:
        mine = [r for r in latest if (r.source or "") == g]
        cells = [_pct(score([r for r in mine if r.dimension == d])) for d in dims]
        name = link(f"/ui/{url_part(cat.tenant)}/sources/{url_part(g)}", g) if g else "(tenant-wide)"
        rows.append([name, *cells, _pct(score(mine))])
    parts.append(table(["source", *dims, "all"], rows, numeric=tuple(range(1, len(dims) + 2)),
                       empty="no check results yet: run `medlake check`"))
    parts.append("<h2>Trend over check runs</h2>")
    history = cat.rows(
        "select run_id, min(checked_at) over (partition by run_id) as t, dimension, status from meta.check_results order by t",
        needs="meta.check_results",
    )
    by_run: dict[str, list[tuple[Any, ...]]] = {}
    for run_id, t, dimension, status in history:
        by_run.setdefault(f"{t:%m-%d %H:%M:%S}" if t else run_id, []).append((dimension, status))
    series: dict[str, list[tuple[str, float]]] = {}
    for label, items in by_run.items():
        for d in sorted({i[0] for i in items}):
            judged = [s for dim, s in items if dim == d and s in ("pass", "fail", "error")]
            if judged:
                series.setdefault(d, []).append((label, 100.0 * judged.count("pass") / len(judged)))
    parts.append(line_chart(series, y_label="score %", y_max=100.0))
    parts.append("<h2>Blocked gold marts</h2>")
    blocked: dict[str, set[str]] = {}
    for r in latest:
        if r.blocking:
            for mart in r.blocks:
                blocked.setdefault(mart, set()).add(r.check_id)
    parts.append(table(["mart", "stopped by"], ([esc(m), esc(", ".join(sorted(ids)))] for m, ids in sorted(blocked.items())),
                       empty="no mart is blocked"))
    parts.append("<h2>Failing checks</h2>")
    parts.append(_checks([r for r in latest if r.status in ("fail", "error")]))
    return page(f"{cat.tenant} data quality", "".join(parts), nav=_nav(cat.tenant))


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.0f}%"


PATIENT_FIELDS = (
    "person_id", "given_name", "family_name", "birth_date", "age_years", "gender", "deceased", "city", "state",
    "patient_count", "sources", "active_problems", "active_medications", "encounters_total", "encounters_12m",
    "ed_visits_12m", "inpatient_stays_12m", "last_encounter_at", "hba1c_value", "bp_systolic_value", "bp_diastolic_value",
    "bmi_value", "as_of_at",
)


def patient_page(tenant: str, person: dict[str, Any], encounters: list[tuple[Any, ...]], conditions: list[tuple[Any, ...]]) -> str:
    parts = [table(["field", "value"], ([esc(k), esc(_value(person.get(k)))] for k in PATIENT_FIELDS if k in person))]
    parts.append("<h2>Recent encounters</h2>")
    parts.append(table(["start", "end", "class", "type", "source", "status"],
                       ([esc(_value(v)) for v in e] for e in encounters), empty="no encounters"))
    parts.append("<h2>Conditions</h2>")
    parts.append(table(["code", "display", "clinical status", "onset", "source"],
                       ([esc(_value(v)) for v in c] for c in conditions), empty="no conditions"))
    return page(f"Patient 360 · {person.get('person_id')}", "".join(parts), nav=_nav(tenant))


def _value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def message_page(title: str, text: str) -> str:
    return page(title, f"<p>{esc(text)}</p>")
