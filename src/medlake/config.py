"""Project, tenant and source configuration (`medlake.yaml`).

The models are typed and documented field by field; `load_config` turns any problem into a
`ConfigError` naming the file, line and key and saying what is allowed. Config objects are
frozen: nothing in medlake mutates what the user wrote.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from medlake.errors import ConfigError

SourceKind = Literal["delimited", "fhir", "hl7v2", "x12"]
SOURCE_KINDS: tuple[str, ...] = ("delimited", "fhir", "hl7v2", "x12")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FormatOptions(_Frozen):
    """How to read a delimited source's bytes."""

    delimiter: str = Field(",", description="Field delimiter; may be several characters, e.g. `^|^`.")
    quote: str | None = Field('"', description="Quote character, or null for none.")
    header: bool = Field(True, description="First line holds the column names.")
    columns: tuple[str, ...] | None = Field(
        None, description="Column names when the file has no header line."
    )
    encoding: str = Field(
        "auto", description="`auto` detects BOMs (UTF-8/16/32) and falls back to UTF-8."
    )

    @field_validator("delimiter")
    @classmethod
    def _delimiter_not_empty(cls, v: str) -> str:
        if not v or v in ("\n", "\r"):
            raise ValueError("must be one or more characters other than a line break")
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        if v != "auto":
            import codecs

            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f"`{v}` is not a known encoding; use `auto` or a codec name such as `cp1252`") from None
        return v

    @model_validator(mode="after")
    def _columns_when_no_header(self) -> FormatOptions:
        if not self.header and not self.columns:
            raise ValueError("`columns` is required when `header` is false")
        return self


class SourceConfig(_Frozen):
    """One feed of one tenant."""

    name: str = Field(description="Short name, lower-case letters, digits and `_`.")
    kind: SourceKind = Field(description="Format family: delimited, fhir, hl7v2 or x12.")
    location: str = Field(
        description="Folder, file or glob the feed's files are read from; relative to the config file."
    )
    system: str | None = Field(
        None, description="Source system URI put in `meta.source`; default `urn:medlake:<tenant>:<source>`."
    )
    timezone: str | None = Field(
        None, description="IANA zone of naive timestamps in this source; default: the tenant's."
    )
    mapping: str | None = Field(
        None, description="Delimited sources: a shipped mapping spec name or a path to a YAML spec."
    )
    format: FormatOptions = Field(
        default_factory=FormatOptions, description="Delimited sources: how to read the bytes."
    )
    schema_drift: Literal["evolve", "additive", "quarantine"] = Field(
        "evolve",
        description=(
            "Delimited sources: what a file whose columns drifted from its kind's registered schema "
            "does at bronze: `evolve` (register a new version and land), `additive` (added or "
            "reordered columns evolve; removed, renamed or retyped ones quarantine) or `quarantine` "
            "(any change quarantines the file until the policy changes). See docs/lake.md."
        ),
    )
    freshness_hours: float | None = Field(
        None,
        gt=0,
        description="The feed is expected at least this often: the freshness check fails when its newest landed "
        "object is older. Unset: no freshness check for this source.",
    )
    ids: Literal["derive", "keep"] = Field(
        "derive",
        description=(
            "FHIR sources: `derive` gives every resource a deterministic silver id (UUIDv5 of tenant, "
            "system, type and its source id) and rewrites references to match; `keep` keeps each "
            "resource's own `id` and every reference as they are, for resources that already carry "
            "lake ids, such as the NDJSON files of a medlake `$export` (see docs/api.md)."
        ),
    )

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("must start with a letter and use only a-z, 0-9 and `_`")
        return v

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, v: str | None) -> str | None:
        return _check_zone(v)

    @model_validator(mode="after")
    def _mapping_for_delimited(self) -> SourceConfig:
        if self.kind == "delimited" and not self.mapping:
            raise ValueError("delimited sources need `mapping` (a shipped spec name or a YAML path)")
        if self.ids == "keep" and self.kind != "fhir":
            raise ValueError("`ids: keep` is for FHIR sources only; other kinds always derive silver ids")
        return self


class TerminologyConfig(_Frozen):
    """A tenant's code normalization in silver (see docs/terminology.md)."""

    enabled: bool = Field(True, description="Add normalized codings beside source codings in silver.")
    concept_maps: tuple[str, ...] = Field(
        (), description="Concept map CSV files (local code → standard code); relative to the config file."
    )
    icd10cm_code_lists: str | None = Field(
        None, description="Folder of extra ICD-10-CM code lists, one `*<fiscal year>*.txt` per year; FY2024 is shipped."
    )


class IdentityConfig(_Frozen):
    """A tenant's master patient index (see docs/identity.md)."""

    source_ranking: tuple[str, ...] = Field(
        (), description="Source names, most trusted first, for the golden record; default: clinical sources before claims."
    )
    link_probability: float = Field(0.95, gt=0, le=1, description="Pairs at or above this match probability are linked.")
    review_probability: float = Field(
        0.5, gt=0, le=1, description="Pairs at or above this (and below `link_probability`) go to the review list."
    )


class WebhookAlertConfig(_Frozen):
    """A Slack-compatible incoming webhook (JSON `{"text": ...}` POSTed to a URL)."""

    url: str | None = Field(None, description="The webhook URL; prefer `url_env` for URLs that carry a secret.")
    url_env: str | None = Field(None, description="Name of the environment variable that holds the webhook URL.")

    @model_validator(mode="after")
    def _one_url(self) -> WebhookAlertConfig:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of `url` and `url_env`")
        return self


class EmailAlertConfig(_Frozen):
    """SMTP email alerts."""

    host: str = Field(min_length=1, description="SMTP server host name.")
    port: int = Field(25, ge=1, le=65535, description="SMTP server port.")
    sender: str = Field(min_length=3, description="The From address.")
    to: tuple[str, ...] = Field(min_length=1, description="Recipient addresses.")
    username: str | None = Field(None, description="SMTP login name, if the server needs one.")
    password_env: str | None = Field(None, description="Name of the environment variable that holds the SMTP password.")
    starttls: bool = Field(False, description="Upgrade the connection with STARTTLS before sending.")


class AlertsConfig(_Frozen):
    """Where a tenant's alerts go and which events raise one. Alerts carry counts and ids, never PHI."""

    webhook: WebhookAlertConfig | None = Field(None, description="A Slack-compatible webhook.")
    email: EmailAlertConfig | None = Field(None, description="SMTP email.")
    events: tuple[Literal["run_failed", "check_blocked", "check_failed"], ...] = Field(
        ("run_failed", "check_blocked", "check_failed"),
        description="Events that raise an alert: a failed run, a check that blocked a mart, any failed check.",
    )
    retries: int = Field(3, ge=0, le=10, description="Extra attempts after a failed delivery, with backoff.")
    timeout_s: float = Field(10.0, gt=0, le=120, description="Per-attempt network timeout, seconds.")


class TenantConfig(_Frozen):
    """One customer: its own lake root and sources."""

    name: str = Field(description="Short name, lower-case letters, digits and `_`.")
    timezone: str = Field("UTC", description="Default IANA zone for naive source timestamps.")
    sources: tuple[SourceConfig, ...] = Field((), description="The tenant's feeds.")
    terminology: TerminologyConfig = Field(
        default_factory=TerminologyConfig, description="Code normalization: concept maps, ICD-10-CM code lists."
    )
    identity: IdentityConfig = Field(
        default_factory=IdentityConfig, description="Patient matching: golden-record source ranking, thresholds."
    )
    views_dir: str | None = Field(
        None,
        description="Folder of this tenant's own ViewDefinition JSON files (one view each), relative to the config file; "
        "a view here replaces a project `views_dir` view of the same name. See docs/views.md.",
    )
    cohorts_dir: str | None = Field(
        None,
        description="Folder of this tenant's YAML cohort definitions (one cohort per file), relative to the config "
        "file; built into gold.cohort_custom_members. See docs/gold.md.",
    )
    value_sets_dir: str | None = Field(
        None,
        description="Folder of this tenant's value-set CSV files (value_set,code_system,code) for the quality "
        "measures, e.g. CPT/SNOMED visit codes; relative to the config file. See docs/gold.md.",
    )
    checks_dir: str | None = Field(
        None,
        description="Folder of this tenant's data-quality check YAML files, relative to the config file; a check here "
        "replaces a shipped or project check of the same id. See docs/quality.md.",
    )
    alerts: AlertsConfig | None = Field(None, description="Alerts on failed runs and checks: webhook and/or email.")
    quality_visit_classes: list[str] = Field(
        default_factory=list,
        description="Encounter class codes (e.g. AMB, VR) whose finished encounters count as qualifying visits for the "
        "quality measures when the encounters carry no coded type. An approximation of the measures' visit value "
        "sets, off by default. See docs/gold.md.",
    )

    @field_validator("quality_visit_classes")
    @classmethod
    def _class_codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,31}", c)]
        if bad:
            raise ValueError(f"{bad[0]!r} is not an encounter class code (letters, digits, `_` or `-`, e.g. AMB)")
        return v

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("must start with a letter and use only a-z, 0-9 and `_`")
        return v

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, v: str) -> str:
        _check_zone(v)
        return v

    @model_validator(mode="after")
    def _unique_sources(self) -> TenantConfig:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"source `{s.name}` is declared twice")
            seen.add(s.name)
        unknown = [n for n in self.identity.source_ranking if n not in seen]
        if unknown:
            raise ValueError(
                f"identity.source_ranking names {', '.join(f'`{n}`' for n in unknown)}, not a source of this tenant; "
                f"sources are: {', '.join(f'`{n}`' for n in seen) or 'none'}"
            )
        if self.identity.review_probability > self.identity.link_probability:
            raise ValueError("identity.review_probability must not be above identity.link_probability")
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(f"`{s.name}`" for s in self.sources) or "none"
        raise ConfigError(
            f"tenant `{self.name}` has no source `{name}`; its sources are: {known}",
            tenant=self.name,
            source=name,
        )

    def zone_of(self, source: SourceConfig) -> str:
        return source.timezone or self.timezone

    def system_of(self, source: SourceConfig) -> str:
        return source.system or f"urn:medlake:{self.name}:{source.name}"


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class ServeAuthConfig(_Frozen):
    """How `medlake serve` checks bearer tokens (see docs/security.md). No secret sits here:
    the HS256 secret is read from the environment variable `secret_env` when the server starts."""

    issuer: str | None = Field(None, min_length=1, description="Required `iss` claim; unset accepts any issuer (not advised).")
    audience: str = Field(min_length=1, description="Required `aud` claim: this server's base URL or id.")
    algorithms: tuple[Literal["HS256", "RS256"], ...] = Field(
        ("RS256",), description="Accepted signing algorithms: HS256, RS256 or both."
    )
    secret_env: str | None = Field(
        None, description="HS256: the environment variable that holds the shared secret (at least 32 characters)."
    )
    public_key_file: str | None = Field(
        None, description="RS256: the issuer's PEM public key; relative to the config file."
    )
    leeway_s: int = Field(30, ge=0, le=600, description="Clock skew allowed on `exp`, `nbf` and `iat`, seconds.")
    tenant_claim: str = Field("tenant", min_length=1, description="The claim that names the one tenant a token is for.")

    @model_validator(mode="before")
    @classmethod
    def _no_secret_in_file(cls, data: Any) -> Any:
        if isinstance(data, dict) and "secret" in data:
            raise ValueError(
                "a secret must not sit in the project file; put it in an environment variable and name "
                "that in `secret_env` (e.g. `secret_env: MEDLAKE_JWT_SECRET`)"
            )
        return data

    @field_validator("secret_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_NAME.match(v):  # the value is never echoed: it may be the secret itself
            raise ValueError("must be the name of an environment variable (letters, digits and `_`), not the secret itself")
        return v

    @model_validator(mode="after")
    def _keys_for_algorithms(self) -> ServeAuthConfig:
        algs = self.algorithms
        if not algs:
            raise ValueError("`algorithms` is empty; list HS256, RS256 or both")
        if "HS256" in algs and self.secret_env is None:
            raise ValueError("algorithm HS256 needs `secret_env`: the environment variable that holds the shared secret")
        if "RS256" in algs and self.public_key_file is None:
            raise ValueError("algorithm RS256 needs `public_key_file`: the issuer's PEM public key, relative to this file")
        if self.secret_env is not None and "HS256" not in algs:
            raise ValueError("`secret_env` is set but `algorithms` has no HS256; add HS256 or remove `secret_env`")
        if self.public_key_file is not None and "RS256" not in algs:
            raise ValueError("`public_key_file` is set but `algorithms` has no RS256; add RS256 or remove `public_key_file`")
        return self


class ServeConfig(_Frozen):
    """The FHIR API (`medlake serve`): how callers authenticate."""

    auth: ServeAuthConfig | None = Field(None, description="Bearer-token checks; required unless `allow_anonymous`.")
    allow_anonymous: bool = Field(
        False, description="Serve without tokens (every caller reads everything): development only."
    )

    @model_validator(mode="after")
    def _one_mode(self) -> ServeConfig:
        if self.allow_anonymous and self.auth is not None:
            raise ValueError(
                "`allow_anonymous: true` and `auth` exclude each other; remove `allow_anonymous` to require "
                "tokens, or `auth` to serve without them (development only)"
            )
        return self


class ProjectConfig(_Frozen):
    """The whole `medlake.yaml`."""

    lake: str = Field("./lake", description="Lake root: a folder (relative to this file) or `s3://bucket/prefix`.")
    storage_options: dict[str, str] = Field(
        default_factory=dict, description="Options for object storage (e.g. AWS_ENDPOINT_URL)."
    )
    tenants: tuple[TenantConfig, ...] = Field((), description="One entry per customer.")
    views_dir: str | None = Field(
        None,
        description="Folder of ViewDefinition JSON files (one view each) every tenant materializes into "
        "`silver/views/<name>`, relative to this file. See docs/views.md.",
    )
    checks_dir: str | None = Field(
        None,
        description="Folder of data-quality check YAML files every tenant runs, relative to this file; a check here "
        "replaces a shipped check of the same id. See docs/quality.md.",
    )
    status_file: str = Field(
        "status.yaml",
        description="The curated status overrides the dashboard reads (cutover, legacy retired …), relative to this "
        "file; a missing file means no overrides. See docs/dashboard.md.",
    )
    serve: ServeConfig = Field(default_factory=ServeConfig, description="The FHIR API: authentication.")
    base_dir: str = Field(".", description="Set by the loader: the folder of the config file.", exclude=True)

    @model_validator(mode="after")
    def _unique_tenants(self) -> ProjectConfig:
        seen: set[str] = set()
        for t in self.tenants:
            if t.name in seen:
                raise ValueError(f"tenant `{t.name}` is declared twice")
            seen.add(t.name)
        return self

    def tenant(self, name: str) -> TenantConfig:
        for t in self.tenants:
            if t.name == name:
                return t
        known = ", ".join(f"`{t.name}`" for t in self.tenants) or "none"
        raise ConfigError(f"no tenant `{name}`; tenants are: {known}", tenant=name)

    def lake_uri(self) -> str:
        if "://" in self.lake:
            return self.lake.rstrip("/")
        return str((Path(self.base_dir) / self.lake).resolve())

    def resolve_location(self, location: str) -> str:
        if "://" in location or Path(location).is_absolute():
            return location
        return str((Path(self.base_dir) / location).resolve())


def _check_zone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"`{v}` is not an IANA time zone (e.g. `America/New_York`, `UTC`)") from None
    return v


def _line_index(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            _line_index(value, (*path, k), out)
            out[(*path, k)] = key.start_mark.line + 1  # the key's own line, not its value's
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), out)


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_config(text: str, *, path: str = "medlake.yaml") -> ProjectConfig:
    """Parse config text; errors name `path`, the line and the key."""
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            f"{path}:{line or '?'}: not valid YAML ({getattr(e, 'problem', e)})", file=path, line=line
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping with `lake` and `tenants`", file=path, line=1)
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _line_index(node, (), lines)
    base = str(Path(path).resolve().parent)
    try:
        return ProjectConfig.model_validate({**data, "base_dir": base})
    except ValidationError as e:
        first = e.errors()[0]
        loc = tuple(p for p in first["loc"] if p not in ("function-after",))
        # pydantic may append the failing union member or validator name; trim to keys we know
        line = _line_for(loc, lines)
        key = _dotted(loc)
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = f"unknown key `{loc[-1]}`" + _did_you_mean(str(loc[-1]), loc[:-1])
        elif first["type"] == "literal_error":
            msg = f"{msg}; got `{first.get('input')}`"
        more = f" (and {len(e.errors()) - 1} more problem(s))" if len(e.errors()) > 1 else ""
        raise ConfigError(
            f"{path}:{line or '?'}: `{key}`: {msg}{more}", file=path, line=line, key=key
        ) from None


def _did_you_mean(name: str, parent: tuple[Any, ...]) -> str:
    import difflib

    depth = [p for p in parent if not isinstance(p, int)]
    model: type[BaseModel] = ProjectConfig
    for part in depth:
        field = model.model_fields.get(str(part))
        if field is None:
            break
        ann = field.annotation
        inner = getattr(ann, "__args__", (ann,))
        nxt = next((a for a in inner if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if nxt is None:
            break
        model = nxt
    allowed = [k for k in model.model_fields if k != "base_dir"]
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"; did you mean `{close[0]}`?" if close else ""
    return f"{hint} Allowed keys: {', '.join(allowed)}"


def load_config(path: str | Path = "medlake.yaml") -> ProjectConfig:
    p = Path(path)
    if not p.exists():
        raise ConfigError(
            f"config file `{p}` not found; looked in {p.resolve()}. Create one with `medlake init`.",
            file=str(p),
        )
    return parse_config(p.read_text(encoding="utf-8"), path=str(p))
