"""Pure mappings from bronze records to FHIR R4 resources, one module per source family."""

from __future__ import annotations

import importlib
from typing import Any


def family_function(module: str, name: str) -> Any:
    """`medlake.silver.mappings.<module>.<name>`: the entry point of one family's mapping
    (the HL7 and X12 dispatchers look their families up by name, so a family's module is
    imported only when a message or set of that family arrives)."""
    return getattr(importlib.import_module(f"medlake.silver.mappings.{module}"), name)
