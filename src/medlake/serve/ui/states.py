"""The medallion status matrix: one state per tenant × source × layer, and what gates a tenant.

The rules (docs/dashboard.md), for source `s` of a tenant:

- **untouched** — nothing of `s` landed (no manifest entry, no `land` run with rows).
- **building** — landed, but the layer is not built: it never ran for `s`, its latest run
  failed, or the layer below is not built yet. Gold is one tenant-wide build: its latest
  `gold` run counts for every source.
- **testing** — built, but a check of that layer fails: the latest result of a check for
  `s` whose status is `fail` or `error` at severity `error` or `warn`. A check belongs to
  the layer of its table (`bronze.*` and the landing/manifest tables: bronze; `gold.*`:
  gold; the rest: silver). Gold also counts every failed check that blocks a mart, whatever
  its source (a tenant-wide check included).
- **live** — built and its checks pass.
- **parallel**, **cutover**, **legacy retired** — only from the curated `status.yaml`
  (`overrides.py`), which replaces the computed state of the cells it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from medlake.config import ProjectConfig
from medlake.serve.ui.facts import Result, TenantFacts
from medlake.serve.ui.overrides import LAYERS, STATES, Override, Overrides

RANK = {state: i for i, state in enumerate(STATES)}
KIND_NAMES = {"delimited": "delimited (CSV)", "fhir": "FHIR", "hl7v2": "HL7 v2", "x12": "X12"}
_BRONZE_TABLES = ("bronze", "landing", "meta.manifest", "meta.schemas", "meta.schema_events", "meta.x12_balance")


@dataclass(frozen=True)
class Cell:
    state: str
    why: str  # the rule that gave the state (a tooltip on the page)
    override: Override | None = None
    blocked: tuple[str, ...] = ()  # gold: the marts failed checks stop, as `mart (check id)`


@dataclass(frozen=True)
class SourceStatus:
    source: str
    kind: str  # a source kind, or `unconfigured` for data of a source no longer in the config
    cells: dict[str, Cell]
    last_run: datetime | None


@dataclass
class TenantStatus:
    tenant: str
    sources: list[SourceStatus] = field(default_factory=list)
    gate: str = "live"  # "live", "no sources" or "waiting on <kinds>"
    gate_detail: str = ""
    tenant_wide_failing: int = 0  # failing checks not split by source

    @property
    def configured(self) -> list[SourceStatus]:
        return [s for s in self.sources if s.kind != "unconfigured"]


def layer_of(result: Result) -> str:
    table = result.table
    if table.startswith(_BRONZE_TABLES):
        return "bronze"
    return "gold" if table.startswith("gold") else "silver"


def source_cells(facts: TenantFacts, source: str) -> dict[str, Cell]:
    """The computed (not overridden) state of each layer of `source`."""
    land = facts.runs.get(("land", source))
    if not facts.landed.get(source) and not (land and land.status == "ok" and land.rows_out > 0):
        return {layer: Cell("untouched", "nothing landed") for layer in LAYERS}
    cells: dict[str, Cell] = {}
    below_built = True
    for layer in LAYERS:
        run = facts.runs.get((layer, "" if layer == "gold" else source))
        if not below_built:
            cells[layer] = Cell("building", "the layer below is not built")
        elif run is None:
            cells[layer] = Cell("building", f"landed; {layer} not built yet")
        elif run.status != "ok":
            cells[layer] = Cell("building", f"latest {layer} run {run.status}")
        else:
            failing = _failing(facts.results, source, layer)
            if failing:
                blocked = sorted({f"{m} ({r.check_id})" for r in failing if r.blocking for m in r.blocks}) if layer == "gold" else []
                cells[layer] = Cell("testing", f"{len(failing)} failing check(s): {', '.join(sorted({r.check_id for r in failing}))}",
                                    blocked=tuple(blocked))
            else:
                cells[layer] = Cell("live", "built; its checks pass")
        below_built = cells[layer].state != "building"
    return cells


def _failing(results: list[Result], source: str, layer: str) -> list[Result]:
    own = [r for r in results if r.source == source and r.failing_check and layer_of(r) == layer]
    if layer == "gold":
        own += [r for r in results if r.blocking and r.source in (source, None) and r not in own]
    return own


def tenant_status(project: ProjectConfig, tenant: str, facts: TenantFacts, overrides: Overrides) -> TenantStatus:
    cfg = project.tenant(tenant)
    status = TenantStatus(tenant)
    kinds = {s.name: str(s.kind) for s in cfg.sources}
    names = [s.name for s in cfg.sources] + sorted(facts.sources_seen - set(kinds))
    for name in names:
        cells = source_cells(facts, name)
        for layer in LAYERS:
            o = overrides.get((tenant, name, layer))
            if o is not None:
                cells[layer] = Cell(o.state, "curated in status.yaml", o)
        runs = [r.started_at for (_, s), r in facts.runs.items() if s == name and r.started_at is not None]
        status.sources.append(SourceStatus(name, kinds.get(name, "unconfigured"), cells, max(runs, default=None)))
    status.tenant_wide_failing = sum(1 for r in facts.results if r.source is None and r.failing_check)
    status.gate, status.gate_detail = _gate(status.configured)
    return status


def _gate(sources: list[SourceStatus]) -> tuple[str, str]:
    """What holds the tenant back: the source kinds of its least advanced cells."""
    if not sources:
        return "no sources", ""
    low = min(RANK[c.state] for s in sources for c in s.cells.values())
    if low >= RANK["live"]:
        return "live", ""
    stuck = [(s, layer) for s in sources for layer, c in s.cells.items() if RANK[c.state] == low]
    kinds = sorted({KIND_NAMES.get(s.kind, s.kind) for s, _ in stuck})
    detail = ", ".join(f"{s.source} {layer}" for s, layer in stuck[:4]) + (f" and {len(stuck) - 4} more" if len(stuck) > 4 else "")
    return f"waiting on {' / '.join(kinds)}", f"{STATES[low]}: {detail}"


def live_by_kind(tenants: list[TenantStatus]) -> list[tuple[str, int, int]]:
    """(source kind, tenants whose sources of that kind are live in every layer, tenants with that kind)."""
    out = []
    for kind in KIND_NAMES:
        having = [t for t in tenants if any(s.kind == kind for s in t.configured)]
        live = [
            t for t in having
            if all(RANK[c.state] >= RANK["live"] for s in t.configured if s.kind == kind for c in s.cells.values())
        ]
        out.append((KIND_NAMES[kind], len(live), len(having)))
    return out
