"""Run checks against a tenant's catalog and store the results.

    report = run_checks(project, "acme")           # every check, results in _meta/check_results
    report.failed                                   # the results with status `fail`
    report.blocked                                  # {"quality_measure_results": ["patient.birth_date.not_null"]}

A check whose relation does not exist is `not_applicable`; one whose SQL fails is `error` (the
error class in the sentence, no values) and the other checks still run. A check fails when
its violating rows exceed `threshold_pct` percent of the rows it looked at.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from medlake.errors import ConfigError
from medlake.quality import kinds
from medlake.quality.model import CheckContext, CheckResult, CheckSpec, Outcome, Status, builtins
from medlake.quality.sentence import error_sentence, missing_relation, nothing_to_check, sentence

if TYPE_CHECKING:
    from medlake.config import ProjectConfig

log = logging.getLogger(__name__)


@dataclass
class CheckReport:
    """What one check run found."""

    run_id: str
    tenant: str
    checked_at: datetime
    results: list[CheckResult] = field(default_factory=list)

    @property
    def failed(self) -> list[CheckResult]:
        """Results with status `fail` (any severity)."""
        return [r for r in self.results if r.status == "fail"]

    @property
    def errors(self) -> list[CheckResult]:
        """Results with status `error` (the check could not run)."""
        return [r for r in self.results if r.status == "error"]

    @property
    def blocked(self) -> dict[str, list[str]]:
        """Gold mart → the ids of the failed error-severity checks that stop it."""
        out: dict[str, list[str]] = {}
        for r in self.results:
            if r.blocking:
                for mart in r.blocks:
                    ids = out.setdefault(mart, [])
                    if r.check_id not in ids:
                        ids.append(r.check_id)
        return {m: out[m] for m in sorted(out)}

    def counts(self) -> dict[str, int]:
        """Results per status (every status present, zeros included)."""
        counts = {"pass": 0, "fail": 0, "not_applicable": 0, "error": 0}
        for r in self.results:
            counts[r.status] += 1
        return counts

    def summary_line(self) -> str:
        """`42 checks: 40 pass, 1 fail, 1 not applicable, 0 error; 0 marts blocked`."""
        c = self.counts()
        checks = len({r.check_id for r in self.results})
        return (
            f"{checks} checks ({len(self.results)} results): {c['pass']} pass, {c['fail']} fail, "
            f"{c['not_applicable']} not applicable, {c['error']} error; {len(self.blocked)} marts blocked"
        )


def _load_builtins() -> None:
    """Import `medlake.quality.builtin`, which registers the shipped builtin checks."""
    import importlib

    with contextlib.suppress(ImportError):  # a build without the builtin package still runs the YAML checks
        importlib.import_module("medlake.quality.builtin")


def relation_exists(con: Any, relation: str) -> bool:
    schema, name = relation.split(".", 1)
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    return bool(row and row[0])


def select_checks(specs: list[CheckSpec], only: Sequence[str] | None) -> list[CheckSpec]:
    """The checks whose id is in `only` (ids or shell patterns such as `patient.*`)."""
    if not only:
        return specs
    ids = [s.id for s in specs]
    for want in only:
        if not any(fnmatch.fnmatchcase(i, want) for i in ids):
            import difflib

            close = difflib.get_close_matches(want, ids, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise ConfigError(f"no check has the id `{want}`{hint} (`medlake check --list` shows them)", check=want)
    return [s for s in specs if any(fnmatch.fnmatchcase(s.id, w) for w in only)]


def _result(spec: CheckSpec, o: Outcome, run_id: str, now: datetime) -> CheckResult:
    status: Status
    if o.status is not None:
        status = o.status
    elif o.total <= 0 and spec.kind != "row_count":
        status = "not_applicable"
    elif o.failing > 0 and 100.0 * o.failing / o.total > spec.threshold_pct:
        status = "fail"
    else:
        status = "pass"
    if o.sentence:
        text = o.sentence
    elif status == "not_applicable" and o.total <= 0:
        text = nothing_to_check(spec, o.group)
    else:
        text = sentence(spec, o.failing, o.total, o.group)
    return CheckResult(
        check_id=spec.id, table=spec.table, group=o.group, category=spec.category, dimension=spec.dimension,
        severity=spec.severity, status=status, failing=o.failing, total=o.total, threshold_pct=spec.threshold_pct,
        sentence=text, query=o.query, blocks=spec.blocks, run_id=run_id, checked_at=now,
    )


def _single(spec: CheckSpec, status: Status, text: str, run_id: str, now: datetime, query: str = "") -> CheckResult:
    return _result(spec, Outcome(0, 0, query, None, text, status), run_id, now)


def evaluate(
    con: Any,
    specs: list[CheckSpec],
    *,
    run_id: str,
    now: datetime,
    context: CheckContext | None = None,
) -> list[CheckResult]:
    """Run `specs` on connection `con` (a catalog session): one result per check × group.

    Builtin checks need `context` (else they are `not_applicable`)."""
    registered = builtins()
    results: list[CheckResult] = []
    for spec in specs:
        try:
            if spec.kind == "builtin":
                name = str(spec.params["builtin"])
                fn = registered.get(name)
                if fn is None:
                    results.append(_single(spec, "error", f"the builtin check `{name}` is not registered", run_id, now))
                    continue
                if context is None:
                    results.append(_single(spec, "not_applicable", "builtin checks need a tenant's lake", run_id, now))
                    continue
                outcomes = fn(context, spec)
            else:
                missing = [r for r in kinds.relations(spec) if not relation_exists(con, r)]
                if missing:
                    results.append(_single(spec, "not_applicable", missing_relation(missing[0]), run_id, now))
                    continue
                outcomes = kinds.run_kind(con, spec)
            results.extend(_result(spec, o, run_id, now) for o in outcomes)
        except Exception as e:  # a broken check must not stop the others
            log.warning("check %s could not run: %s", spec.id, type(e).__name__)
            results.append(_single(spec, "error", error_sentence(e), run_id, now))
    return results


def run_checks(
    project: ProjectConfig,
    tenant_name: str,
    *,
    run_id: str | None = None,
    only: Sequence[str] | None = None,
    now: datetime | None = None,
    write: bool = True,
) -> CheckReport:
    """Run the tenant's checks (`load_checks`) against its catalog and store the results in
    `_meta/check_results` (unless `write=False`). `only`: check ids or patterns."""
    from medlake.lake.catalog import connect
    from medlake.lake.runlog import new_run_id
    from medlake.pipeline import open_lake
    from medlake.quality.load import load_checks
    from medlake.quality.store import write_results

    _load_builtins()
    tenant = project.tenant(tenant_name)
    specs = select_checks(load_checks(project, tenant_name), only)
    rid = run_id or new_run_id()
    when = (now or datetime.now(UTC)).astimezone(UTC)
    lake = open_lake(project, tenant_name)
    con = connect(lake)
    try:
        ctx = CheckContext(project=project, tenant=tenant, lake=lake, con=con, run_id=rid, now=when)
        results = evaluate(con, specs, run_id=rid, now=when, context=ctx)
    finally:
        con.close()
    report = CheckReport(rid, tenant_name, when, results)
    if write:
        write_results(lake, results)
    c = report.counts()
    log.info("checks of run %s: %d results, %d fail, %d error, %d marts blocked",
             rid, len(results), c["fail"], c["error"], len(report.blocked))
    return report
