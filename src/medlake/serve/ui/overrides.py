"""The curated status file (`project.status_file`, default `status.yaml`): states only people know.

    acme:                       # tenant
      lab:                      # source
        gold:                   # layer: bronze, silver or gold
          state: cutover        # one of STATES
          note: reports switch from the legacy warehouse on Dec 1
          since: 2026-11-20

An override replaces the computed state of that one cell. A missing file means no overrides;
a file that cannot be read or is malformed raises `ConfigError` naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from medlake.config import ProjectConfig
from medlake.errors import ConfigError

STATES: tuple[str, ...] = ("untouched", "building", "testing", "parallel", "cutover", "live", "legacy retired")
"""The cell states, least to most advanced."""

LAYERS: tuple[str, ...] = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class Override:
    state: str
    note: str | None = None
    since: str | None = None


Overrides = dict[tuple[str, str, str], Override]
"""(tenant, source, layer) → the curated state."""


def status_path(project: ProjectConfig) -> Path:
    return Path(project.base_dir) / project.status_file


def load_overrides(path: Path) -> Overrides:
    """The overrides in `path` ({} when the file does not exist)."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"{path.name}: cannot be read as YAML ({type(e).__name__}); fix the file", file=str(path)) from None
    if data is None:
        return {}
    out: Overrides = {}
    for tenant, sources in _mapping(data, path, "").items():
        for source, layers in _mapping(sources, path, f"{tenant}").items():
            for layer, entry in _mapping(layers, path, f"{tenant}.{source}").items():
                key = f"{tenant}.{source}.{layer}"
                if layer not in LAYERS:
                    raise _bad(path, key, f"`{layer}` is not a layer; use one of: {', '.join(LAYERS)}")
                out[(str(tenant), str(source), str(layer))] = _override(entry, path, key)
    return out


def _override(entry: Any, path: Path, key: str) -> Override:
    fields = _mapping(entry, path, key)
    unknown = sorted(set(fields) - {"state", "note", "since"})
    if unknown:
        raise _bad(path, f"{key}.{unknown[0]}", "unknown key; the keys are state, note and since")
    state = fields.get("state")
    if state not in STATES:
        raise _bad(path, f"{key}.state", f"must be one of: {', '.join(STATES)}; got {str(state)[:40]!r}")
    since = fields.get("since")
    if since is not None and not isinstance(since, date):
        try:
            since = date.fromisoformat(str(since))
        except ValueError:
            raise _bad(path, f"{key}.since", f"must be a date YYYY-MM-DD; got {str(since)[:40]!r}") from None
    note = fields.get("note")
    return Override(str(state), None if note is None else str(note), None if since is None else since.isoformat())


def _mapping(value: Any, path: Path, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        where = key or "the top level"
        raise _bad(path, where, f"must be a mapping (tenant → source → layer → {{state, note, since}}), not {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _bad(path: Path, key: str, why: str) -> ConfigError:
    return ConfigError(f"{path.name}: `{key}`: {why}", file=str(path), key=key)
