"""Pipeline observability: run metrics and backlog, alerts (webhook + SMTP), JSON-line logs.

See docs/observability.md."""

from __future__ import annotations

from medlake.observability.alerts import Alert, Delivery, alert_for_run, alerts_for, send_alerts
from medlake.observability.metrics import (
    backlog,
    backlog_objects,
    latest_run_id,
    records_per_day,
    run_history,
    run_steps,
    source_success,
)

__all__ = [
    "Alert",
    "Delivery",
    "alert_for_run",
    "alerts_for",
    "backlog",
    "backlog_objects",
    "latest_run_id",
    "records_per_day",
    "run_history",
    "run_steps",
    "send_alerts",
    "source_success",
]
