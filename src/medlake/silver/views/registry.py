"""The ViewDefinitions medlake ships, and the folders of ViewDefinitions users add.

    shipped_view("patient")               # the ViewDefinition JSON (package data, definitions/*.json)
    found = load_views_dir("views/")      # UserViews: .views (name → JSON), .files, .rejected
    found = tenant_views(project, "acme") # the project's folder, then the tenant's (same name: tenant wins)

A user view is one `*.json` file holding one ViewDefinition. Its name is the view's `name`
element, else the file's stem; it becomes the Delta table `silver/views/<name>` and the DuckDB
view `views.<name>`. A file that is not valid — bad JSON, an invalid ViewDefinition, something
the DuckDB compiler cannot translate, a name that is not a table name, a name a shipped view
already uses — is not fatal: it lands in `rejected` with a message naming the file and the
problem, and the other views still load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from medlake.errors import ConfigError
from medlake.silver.views.engine.compile_sql import compile_view
from medlake.silver.views.engine.errors import ViewDefinitionError
from medlake.silver.views.engine.viewdef import parse_view

if TYPE_CHECKING:
    from medlake.config import ProjectConfig

SHIPPED: tuple[str, ...] = (
    "patient",
    "encounter",
    "condition",
    "observation",
    "medication_request",
    "procedure",
    "immunization",
    "allergy_intolerance",
    "diagnostic_report",
    "claim",
    "explanation_of_benefit",
    "coverage",
    "practitioner",
    "organization",
    "location",
)
"""The shipped ViewDefinitions (`silver/views/definitions/<name>.json`)."""

COMPILED: tuple[str, ...] = ("diagnostic_report", "location")
"""Shipped views that have no hand-written SQL: the pipeline materializes them from their
ViewDefinition with the compiler. The others are materialized by `flat.py`'s SQL, which the
tests prove equal to the ViewDefinition on every column both have."""

VIEW_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class UserViews:
    """User ViewDefinitions that loaded (`views`: name → JSON, `files`: name → file) and the
    files that did not (`rejected`: file → message)."""

    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)


def shipped_view(name: str) -> dict[str, Any]:
    """The shipped ViewDefinition `name` as JSON (a new dict each call)."""
    if name not in SHIPPED:
        import difflib

        close = difflib.get_close_matches(name, SHIPPED, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        raise ConfigError(
            f"`{name}` is not a shipped ViewDefinition; they are: {', '.join(SHIPPED)}.{hint}", view=name
        )
    text = resources.files("medlake.silver.views").joinpath("definitions", f"{name}.json").read_bytes()
    view: dict[str, Any] = orjson.loads(text)
    return view


def shipped_views() -> dict[str, dict[str, Any]]:
    """Every shipped ViewDefinition, by name."""
    return {name: shipped_view(name) for name in SHIPPED}


def reserved_names() -> frozenset[str]:
    """Names a user view may not take: the shipped ViewDefinitions and the hand-written flat views."""
    from medlake.silver.views import flat

    return frozenset(SHIPPED) | frozenset(flat.VIEWS)


def check_view(view: Any, file: str, reserved: frozenset[str] | None = None) -> tuple[str, dict[str, Any]]:
    """The name and JSON of a user ViewDefinition read from `file`; raises `ViewDefinitionError`
    (naming the file) when it is not one medlake can materialize."""
    if not isinstance(view, dict):
        raise ViewDefinitionError(f"{file}: a ViewDefinition must be a JSON object, got {type(view).__name__}", file=file)
    kind = view.get("resourceType", "ViewDefinition")
    if kind != "ViewDefinition":
        raise ViewDefinitionError(f"{file}: `resourceType` is `{kind}`; a view file holds one ViewDefinition", file=file)
    name = view.get("name", Path(file).stem)
    if not isinstance(name, str) or not VIEW_NAME.match(name):
        raise ViewDefinitionError(
            f"{file}: view name {name!r} cannot name a table; use lower-case letters, digits and `_`, "
            "starting with a letter (set `name` in the file, or rename the file)",
            file=file,
        )
    if name in (reserved if reserved is not None else reserved_names()):
        raise ViewDefinitionError(
            f"{file}: `{name}` is the name of a shipped view; give yours another `name` (e.g. `my_{name}`)",
            file=file,
            view=name,
        )
    try:
        compile_view(parse_view(view), source="silver.x")  # invalid views and what the compiler lacks
    except ViewDefinitionError as e:
        raise ViewDefinitionError(f"{file}: {e}", file=file, view=name) from None
    return name, view


def load_views_dir(folder: str | Path, reserved: frozenset[str] | None = None) -> UserViews:
    """Every `*.json` ViewDefinition in `folder` (not its subfolders), checked; the bad ones in
    `rejected`. A folder that does not exist is a `ConfigError`."""
    base = Path(folder)
    if not base.is_dir():
        raise ConfigError(
            f"views folder `{base}` does not exist; create it or fix `views_dir` in the project file",
            views_dir=str(base),
        )
    found = UserViews()
    names = reserved if reserved is not None else reserved_names()
    for path in sorted(base.glob("*.json")):
        file = str(path)
        try:
            try:
                raw = orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError as e:
                raise ViewDefinitionError(f"{file}: not valid JSON: {e}", file=file) from None
            name, view = check_view(raw, file, names)
            if name in found.views:
                raise ViewDefinitionError(
                    f"{file}: view `{name}` is already defined in {found.files[name]}; view names must be unique",
                    file=file,
                    view=name,
                )
        except ViewDefinitionError as e:
            found.rejected[file] = str(e)
            continue
        found.views[name] = view
        found.files[name] = file
    return found


def tenant_views(project: ProjectConfig, tenant: str) -> UserViews:
    """The user views of `tenant`: those in the project's `views_dir`, then those in the
    tenant's `views_dir` (a tenant view replaces a project view of the same name)."""
    out = UserViews()
    folders = [project.views_dir, project.tenant(tenant).views_dir]
    for folder in folders:
        if folder is None:
            continue
        found = load_views_dir(project.resolve_location(folder))
        out.views.update(found.views)
        out.files.update(found.files)
        out.rejected.update(found.rejected)
    return out
