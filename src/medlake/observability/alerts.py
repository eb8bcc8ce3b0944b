"""Alerts on failed runs, blocking checks and failed checks — counts, ids and check sentences only.

An `Alert` is built from what a run produced (a `RunSummary`, the exception that stopped it,
a `CheckReport`), never from data values: its lines name stages, sources, tables, check ids,
error classes and the checks' own sentences (which carry counts only, see docs/quality.md).
`alert_for_run` is what the pipeline calls at the end of a run: it builds the alerts, sends
those the tenant's `alerts.events` asks for and records every delivery in `_meta/alerts`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from medlake.observability.delivery import Delivery, email_message, record_deliveries, send_alerts

if TYPE_CHECKING:
    from medlake.config import ProjectConfig
    from medlake.pipeline import RunSummary
    from medlake.quality.run import CheckReport

__all__ = ["Alert", "Delivery", "alert_for_run", "alerts_for", "send_alerts"]

MAX_LINES = 20  # lines beyond this are summarized as "… and N more"


@dataclass(frozen=True)
class Alert:
    """One alert: `event` is `run_failed`, `check_blocked` or `check_failed`."""

    event: str
    tenant: str
    run_id: str
    title: str
    lines: tuple[str, ...] = ()

    def shown_lines(self) -> list[str]:
        if len(self.lines) <= MAX_LINES:
            return list(self.lines)
        return [*self.lines[:MAX_LINES], f"… and {len(self.lines) - MAX_LINES} more"]

    def text(self) -> str:
        return "\n".join([self.title, *(f"- {line}" for line in self.shown_lines()),
                          f"tenant {self.tenant} · run {self.run_id} · event {self.event}"])

    def slack_payload(self) -> dict[str, Any]:
        """Slack-compatible incoming-webhook JSON: `text` (fallback) plus Block Kit `blocks`."""
        blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": self.title[:150]}}]
        if self.lines:
            body = "\n".join(f"• {line}" for line in self.shown_lines())
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}})
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"tenant `{self.tenant}` · run `{self.run_id}` · event `{self.event}`"}]})
        return {"text": self.text(), "blocks": blocks}

    def email(self, sender: str, to: Sequence[str]) -> EmailMessage:
        return email_message(self, sender, to)


def _failure_line(check_id: str, source: str | None, severity: str, sentence: str) -> str:
    where = f", {source}" if source else ""
    return f"`{check_id}` ({severity}{where}): {sentence}"


def _check_alerts(tenant: str, run_id: str, failures: Sequence[tuple[str, str | None, str, str]],
                  blocked: Mapping[str, Sequence[str]]) -> list[Alert]:
    out = []
    if blocked:
        lines = tuple(f"gold.{mart} blocked by check(s) {', '.join(ids)}" for mart, ids in sorted(blocked.items()))
        out.append(Alert("check_blocked", tenant, run_id,
                         f"medlake: {len(blocked)} gold mart(s) blocked by data-quality checks · tenant {tenant}", lines))
    if failures:
        lines = tuple(_failure_line(*f) for f in failures)
        out.append(Alert("check_failed", tenant, run_id,
                         f"medlake: {len(failures)} data-quality check result(s) failed · tenant {tenant}", lines))
    return out


def _error_line(error: BaseException) -> str:
    """The error class and the ids among its context (stage, source), never its message: parse
    errors quote the offending input."""
    ctx = getattr(error, "context", None)
    ids = []
    if isinstance(ctx, dict):
        ids = [f"{k} `{ctx[k]}`" for k in ("stage", "source") if isinstance(ctx.get(k), str)]
    return f"error: {type(error).__name__}" + (f" ({', '.join(ids)})" if ids else "")


def alerts_for(tenant: str, run_id: str, *, summary: RunSummary | None = None, error: BaseException | None = None,
               report: CheckReport | None = None, failed_steps: Sequence[str] = ()) -> list[Alert]:
    """Every alert a run gives (unfiltered by the tenant's `events`).

    `error`: the exception that stopped the run (→ `run_failed`, with `failed_steps`, e.g.
    `bronze feed bronze/feed__* (ParseError)`). `report` (preferred) or the `check` stage of
    `summary`: failed/error check results (→ `check_failed`) and blocked marts (→ `check_blocked`)."""
    out: list[Alert] = []
    if error is not None:
        out.append(Alert("run_failed", tenant, run_id, f"medlake run failed · tenant {tenant}",
                         (_error_line(error), *(f"failed step: {s}" for s in failed_steps))))
    if report is not None:
        failures = [(r.check_id, r.group, r.severity, r.sentence) for r in report.results if r.status in ("fail", "error")]
        out += _check_alerts(tenant, run_id, failures, report.blocked)
    elif summary is not None and (check := summary.stage("check")) is not None:
        failures = [(f["check_id"], f.get("source"), f["severity"], f["sentence"]) for f in check.details.get("failures", [])]
        out += _check_alerts(tenant, run_id, failures, check.details.get("blocked", {}))
    return out


def _failed_steps(project: ProjectConfig, tenant_name: str, run_id: str) -> list[str]:
    from medlake.observability.metrics import run_steps
    from medlake.pipeline import open_lake

    steps = run_steps(open_lake(project, tenant_name), run_id).to_pylist()
    return [" ".join(x for x in (s["stage"], s["source"], s["table_name"]) if x) + f" ({s['message'] or 'failed'})"
            for s in steps if s["status"] == "failed"]


def alert_for_run(project: ProjectConfig, tenant_name: str, summary_or_exc: RunSummary | BaseException,
                  check_report: CheckReport | None = None, *, run_id: str | None = None,
                  env: Mapping[str, str] = os.environ) -> list[Delivery]:
    """Build the run's alerts, send those the tenant's `alerts` config asks for, record every
    delivery in `_meta/alerts`; returns the deliveries. No `alerts` config: nothing is sent.

    Pass the `RunSummary` of a finished run, or the exception that stopped it (with `run_id`
    when known: the failed steps of that run are then listed). Never raises for a failed delivery."""
    from medlake.pipeline import RunSummary, open_lake

    cfg = project.tenant(tenant_name).alerts
    if cfg is None:
        return []
    if isinstance(summary_or_exc, RunSummary):
        rid = summary_or_exc.run_id
        alerts = alerts_for(tenant_name, rid, summary=summary_or_exc, report=check_report)
    else:
        rid = run_id or "unknown"
        steps = _failed_steps(project, tenant_name, run_id) if run_id else []
        alerts = alerts_for(tenant_name, rid, error=summary_or_exc, report=check_report, failed_steps=steps)
    deliveries = send_alerts(cfg, alerts, env=env)
    record_deliveries(open_lake(project, tenant_name), deliveries)
    return deliveries
