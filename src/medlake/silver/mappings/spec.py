"""Mapping-spec files: YAML loading with line numbers, the typed models, and spec errors.

Only this module reads files. Everything it raises is a `ConfigError` whose message names the
spec file, the line and the key (`kinds.patients.resources[0].fields.gender`), and whose
`context` carries `file`, `line` and `key` as attributes.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medlake.errors import ConfigError

Key = tuple[str | int, ...]


# ---------------------------------------------------------------------------- models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ResourceModel(_Strict):
    """One resource a row emits."""

    type: str
    id: str
    when: Any = None
    fields: dict[str, Any] = Field(default_factory=dict)


class KindModel(_Strict):
    """One kind of file a feed sends."""

    match: list[str]
    columns: list[str] | None = None
    resources: list[ResourceModel]


class SpecModel(_Strict):
    """A whole spec file."""

    name: str
    description: str = ""
    kinds: dict[str, KindModel]


class ValueModel(_Strict):
    """A value expression written as a mapping (see docs/mapping-specs.md)."""

    column: str | None = None
    template: str | None = None
    type: str | None = None
    format: str | list[str] | None = None
    map: dict[str, Any] | None = None
    default: Any = None
    strict: bool = False
    reference: str | None = None
    id: str | None = None
    source: str | None = None
    object: dict[str, Any] | None = None
    when: Any = None
    else_: Any = Field(default=None, alias="else")


class ConditionModel(_Strict):
    """A `when` condition written as a mapping."""

    column: str | None = None
    template: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")
    not_in: list[str] | None = None


# ---------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """YAML 1.2-ish: only true/false are booleans (`Y`, `N`, `no`, `on` stay strings, which
    matters for `map` tables), and mapping keys are kept exactly as written (`01` stays `01`)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (
                key_node.value
                if isinstance(key_node, yaml.ScalarNode)
                else self.construct_object(key_node, deep=deep)
            )
            out[key] = self.construct_object(value_node, deep=deep)
        return out


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _Loader.construct_mapping,
)


def _lines(node: yaml.Node, key: Key, out: dict[Key, int]) -> None:
    out.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            name = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            out[(*key, name)] = k.start_mark.line + 1
            _lines(v, (*key, name), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*key, i), out)


# ---------------------------------------------------------------------------- errors


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """`; did you mean `x`?` when a choice is close to `name`, else `.`, to end a sentence."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    if name.lower() in lowered:
        close = [lowered[name.lower()]]
    return f"; did you mean `{close[0]}`?" if close else "."


def key_text(key: Key) -> str:
    """`kinds.patients.resources[0].fields."name[0].family"` for a key path."""
    out = ""
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = f'"{part}"' if any(c in part for c in ".[] ") else part
            out += f".{text}" if out else text
    return out


@dataclass(frozen=True)
class SpecSource:
    """Where a spec came from, to point errors at a file, line and key."""

    file: str
    lines: dict[Key, int]

    def line(self, key: Key) -> int:
        for n in range(len(key), -1, -1):
            if key[:n] in self.lines:
                return self.lines[key[:n]]
        return 1

    def error(self, key: Key, message: str) -> SpecProblem:
        return SpecProblem(self.file, self.line(key), key_text(key), message)


@dataclass(frozen=True)
class SpecProblem:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f", at `{self.key}`" if self.key else ""
        return f"{self.file}, line {self.line}{where}: {self.message}"


def raise_problems(problems: list[SpecProblem]) -> None:
    """Raise one ConfigError for `problems` (if any): the first one's place in `context`."""
    if not problems:
        return
    first = problems[0]
    if len(problems) == 1:
        text = str(first)
    else:
        text = f"{len(problems)} problems in mapping spec {first.file}:\n" + "\n".join(
            f"  - {p}" for p in problems
        )
    raise ConfigError(
        text, file=first.file, line=first.line, key=first.key, problems=list(problems)
    )


def _allowed(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def validation_problems(
    exc: ValidationError, model: type[BaseModel], source: SpecSource, base: Key
) -> list[SpecProblem]:
    """Readable problems for a pydantic error on `model` validated at key `base`.

    A misspelt key (`kind:`) is reported once, as an unknown key with its suggestion, not
    again as the required key it was meant to be.
    """
    errors = exc.errors()
    suggested: set[Key] = set()
    for err in errors:
        if err["type"] == "extra_forbidden":
            loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
            close = difflib.get_close_matches(
                str(loc[-1]), _allowed(_model_at(model, loc[:-1])), 1, 0.6
            )
            suggested.update((*loc[:-1], c) for c in close)
    problems: list[SpecProblem] = []
    for err in errors:
        loc = tuple(p for p in err["loc"] if isinstance(p, str | int))
        key = (*base, *loc)
        sub = _model_at(model, loc[:-1]) if loc else model
        if err["type"] == "extra_forbidden":
            bad = str(loc[-1])
            allowed = _allowed(sub)
            msg = f"unknown key `{bad}`{did_you_mean(bad, allowed)} Allowed keys: {', '.join(allowed)}"
        elif err["type"] == "missing":
            if loc in suggested:
                continue
            msg = f"missing required key `{loc[-1]}`"
        else:
            msg = f"{err['msg'].lower()} (got {_short(err.get('input'))})"
        problems.append(source.error(key, msg))
    return problems


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(model: type[BaseModel], loc: Key) -> type[BaseModel]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        field = fields.get(part)
        if field is None:
            continue
        ann = field.annotation
        for inner in _walk_types(ann):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                current = inner
                break
    return current if isinstance(current, type) and issubclass(current, BaseModel) else model


def _walk_types(tp: Any) -> Iterator[Any]:
    yield tp
    for arg in getattr(tp, "__args__", ()):
        yield from _walk_types(arg)


# ---------------------------------------------------------------------------- loading


def shipped_specs() -> list[str]:
    """Names of the specs shipped as package data."""
    folder = resources.files("medlake.silver.mappings").joinpath("specs")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _is_path(name_or_path: str) -> bool:
    return (
        "/" in name_or_path
        or "\\" in name_or_path
        or name_or_path.endswith((".yaml", ".yml"))
        or Path(name_or_path).exists()
    )


def read_spec(name_or_path: str) -> tuple[SpecModel, SpecSource]:
    """Read and validate the structure of a spec: a shipped name or a file path."""
    if _is_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise ConfigError(
                f"mapping spec file `{name_or_path}` does not exist; give a path to a YAML file "
                f"or the name of a shipped spec ({', '.join(shipped_specs())})",
                file=name_or_path,
            )
        text, file = path.read_text(encoding="utf-8"), str(path)
    else:
        names = shipped_specs()
        if name_or_path not in names:
            raise ConfigError(
                f"no shipped mapping spec `{name_or_path}`{did_you_mean(name_or_path, names)} "
                f"Shipped specs: {', '.join(names)}. To use your own, give a path to its YAML file.",
                spec=name_or_path,
            )
        ref = resources.files("medlake.silver.mappings").joinpath("specs", f"{name_or_path}.yaml")
        text, file = ref.read_text(encoding="utf-8"), f"{name_or_path}.yaml (shipped)"
    return parse_spec_text(text, file)


def parse_spec_text(text: str, file: str) -> tuple[SpecModel, SpecSource]:
    """Validate the structure of spec `text` read from `file` (used for error messages)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{file}, line {line}: not valid YAML: {problem}", file=file, line=line
        ) from exc
    lines: dict[Key, int] = {}
    if node is not None:
        _lines(node, (), lines)
    source = SpecSource(file, lines)
    if not isinstance(data, dict):
        raise_problems(
            [source.error((), "a mapping spec is a YAML mapping with `name` and `kinds`")]
        )
    try:
        model = SpecModel.model_validate(data)
    except ValidationError as exc:
        raise_problems(validation_problems(exc, SpecModel, source, ()))
        raise  # unreachable: raise_problems raised
    return model, source


_R4_RESOURCE_TYPES = """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference
    EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest EnrollmentResponse
    EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario ExplanationOfBenefit
    FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse HealthcareService
    ImagingStudy Immunization ImmunizationEvaluation ImmunizationRecommendation
    ImplementationGuide InsurancePlan Invoice Library Linkage List Location Measure
    MeasureReport Media Medication MedicationAdministration MedicationDispense
    MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
    MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
    MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
    MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
    MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization
    OrganizationAffiliation Parameters Patient PaymentNotice PaymentReconciliation Person
    PlanDefinition Practitioner PractitionerRole Procedure Provenance Questionnaire
    QuestionnaireResponse RelatedPerson RequestGroup ResearchDefinition
    ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
    RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance
    SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestReport TestScript ValueSet VerificationResult
    VisionPrescription
"""
RESOURCE_TYPES: frozenset[str] = frozenset(_R4_RESOURCE_TYPES.split())
"""FHIR R4 (4.0.1) resource types, for checking `type:` and `reference:` in specs."""
