"""`generate(out, patients, seed)`: the whole synthetic health system, streamed to disk.

Persons are built one at a time (`history.build_history`) and handed to every emitter, then
dropped: memory stays flat as `patients` grows. Same seed → byte-identical output.
"""

from __future__ import annotations

import importlib
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

from medlake.synth.emit import Emitter
from medlake.synth.emit_clinic import ClinicEmitter
from medlake.synth.emit_ehr import EhrEmitter
from medlake.synth.emit_fhir import FhirEmitter
from medlake.synth.emit_pharmacy import PharmacyEmitter
from medlake.synth.emit_wearables import WearablesEmitter
from medlake.synth.history import build_history
from medlake.synth.model import SOURCES, PersonHistory
from medlake.synth.population import rng_for
from medlake.synth.project import write_project_config
from medlake.synth.truth import TruthWriter

log = logging.getLogger(__name__)

# Emitters written by the HL7 v2 / X12 side; loaded when present.
_EXTERNAL: tuple[tuple[str, str], ...] = (
    ("medlake.synth.emit_hl7", "LabEmitter"),
    ("medlake.synth.emit_hl7", "AdtEmitter"),
    ("medlake.synth.emit_x12", "ClaimsEmitter"),
)


@dataclass(frozen=True, slots=True)
class SynthSummary:
    out: Path
    persons: int
    seed: int
    files: dict[str, int] = field(default_factory=dict)  # source -> number of files
    records: dict[str, int] = field(default_factory=dict)  # "source/kind" -> patient-identifying records
    rows: dict[str, int] = field(default_factory=dict)  # file (relative to out) -> data rows / resources
    defects: dict[str, int] = field(default_factory=dict)  # defect -> count
    missing_emitters: tuple[str, ...] = ()

    @property
    def defect_count(self) -> int:
        return sum(self.defects.values())


def _emitters(out: Path, seed: int, patients: int) -> tuple[list[Emitter], list[str]]:
    ours: list[Emitter] = [
        EhrEmitter(out, seed, patients=patients), ClinicEmitter(out, seed, patients=patients),
        FhirEmitter(out, seed, patients=patients), PharmacyEmitter(out, seed, patients=patients),
        WearablesEmitter(out, seed, patients=patients),
    ]
    missing: list[str] = []
    for module, name in _EXTERNAL:
        try:
            factory: Any = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            missing.append(f"{module}.{name}")
            continue
        ours.append(factory(out, seed))
    ours.sort(key=lambda e: SOURCES.index(e.source) if e.source in SOURCES else len(SOURCES))
    return ours, missing


def generate(out: Path, patients: int, seed: int, *, progress: Callable[[int], None] | None = None,
             workers: int | None = None) -> SynthSummary:
    """Generate `patients` people and every source system's files into `out`.

    `workers`: processes that build histories while this one writes files (default 0: all in
    this process). Histories cross processes pickled, which costs ~40 % of building them, so
    `workers=1` only pays on an otherwise idle multi-core machine. The output does not depend
    on it.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    truth = TruthWriter(out)
    emitters, missing = _emitters(out, seed, patients)
    for name in missing:
        log.warning("emitter `%s` is not available yet; its source is not generated", name)
    for em in emitters:  # every configured source has its folder, even when a small run sends nothing
        (out / em.source).mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = 0
    try:
        for index, h in enumerate(histories(seed, patients, workers)):
            truth.person(h.person)
            for em in emitters:
                em.emit(h, rng_for(seed, "emit", em.source, index), truth)
            if progress is not None:
                progress(index + 1)
        for em in emitters:
            em.close(truth)
    finally:
        truth.close()
    write_project_config(out, [em.source for em in emitters])
    return _summary(out, patients, seed, truth, tuple(missing))


_CHUNK = 100


def _build_chunk(seed: int, start: int, stop: int) -> list[PersonHistory]:
    from faker import Faker

    fake = _FAKER.setdefault("fake", Faker("en_US"))
    return [build_history(seed, i, fake) for i in range(start, stop)]


_FAKER: dict[str, Any] = {}


def histories(seed: int, patients: int, workers: int = 0) -> Iterator[PersonHistory]:
    """Every person's history in index order; built in `workers` spawned processes when > 0,
    with at most two chunks per worker in flight (memory stays bounded)."""
    chunks = [(seed, a, min(a + _CHUNK, patients)) for a in range(0, patients, _CHUNK)]
    if workers <= 0:
        for chunk in chunks:
            yield from _build_chunk(*chunk)
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pending: deque[AsyncResult[list[PersonHistory]]] = deque()
        it = iter(chunks)
        for chunk in itertools.islice(it, 2 * workers):
            pending.append(pool.apply_async(_build_chunk, chunk))
        while pending:
            done = pending.popleft().get()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.apply_async(_build_chunk, nxt))
            yield from done


def _summary(out: Path, patients: int, seed: int, truth: TruthWriter, missing: tuple[str, ...]) -> SynthSummary:
    files: dict[str, int] = {}
    rows: dict[str, int] = {}
    for source in SOURCES:
        folder = out / source
        if not folder.is_dir():
            continue
        paths = sorted(p for p in folder.rglob("*") if p.is_file())
        files[source] = len(paths)
        bundles = 0
        for p in paths:
            rel = p.relative_to(out).as_posix()
            if p.suffix == ".json" and p.parent.name == "bundles":
                bundles += 1
                continue
            data = p.read_bytes()
            lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
            rows[rel] = lines - (0 if p.suffix in (".ndjson", ".hl7", ".x12", ".edi", ".dat") else 1)
        if bundles:
            rows[f"{source}/bundles/*.json"] = bundles
    return SynthSummary(
        out=out, persons=truth.persons, seed=seed, files=files,
        records={f"{s}/{k}": n for (s, k), n in sorted(truth.records.items())},
        rows=rows, defects=dict(sorted(truth.defects.items())), missing_emitters=missing,
    )
