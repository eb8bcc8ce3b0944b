"""Code normalization in silver: normalized codings kept beside the source coding.

- `gems`: ICD-9-CM ↔ ICD-10-CM through the CMS GEMs (flags kept);
- `icd10`: ICD-10-CM validation against the service date's fiscal-year code list;
- `ndc`: NDC → 11-digit 5-4-2;
- `concept_maps`: tenant-supplied CSV maps (local code → standard code);
- `plans`: what to do with one distinct code; `normalize`: the silver hook;
- `report`: the unmapped-codes report (`meta.unmapped_codes`).

See docs/terminology.md.
"""

from medlake.silver.terminology.normalize import (
    TerminologyContext,
    TerminologyReport,
    normalize,
    normalize_resource,
    terminology_context,
)
from medlake.silver.terminology.report import record as record_unmapped

__all__ = [
    "TerminologyContext",
    "TerminologyReport",
    "normalize",
    "normalize_resource",
    "record_unmapped",
    "terminology_context",
]
