"""docs/configuration.md documents every configuration key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from medlake.config import FormatOptions, ProjectConfig, SourceConfig, TenantConfig

DOC = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("model", [ProjectConfig, TenantConfig, SourceConfig, FormatOptions])
def test_every_field_is_documented_in_code_and_docs(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        if name == "base_dir":
            continue
        assert field.description, f"{model.__name__}.{name} has no description"
        assert f"| `{name}` |" in DOC, f"{model.__name__}.{name} is missing from docs/configuration.md"
