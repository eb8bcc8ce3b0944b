"""SQL-on-FHIR v2 ViewDefinition engine: model, FHIRPath subset, reference evaluator, suite runner.

    from medlake.silver.views.engine import run_view
    rows = run_view({"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]}, patients)
"""

from __future__ import annotations

from medlake.silver.views.engine.errors import FhirPathError, ViewDefinitionError
from medlake.silver.views.engine.evaluate import run_view
from medlake.silver.views.engine.viewdef import ViewDefinition, parse_view

__all__ = ["FhirPathError", "ViewDefinition", "ViewDefinitionError", "parse_view", "run_view"]
