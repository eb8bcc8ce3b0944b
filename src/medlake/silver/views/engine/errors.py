"""Errors of the ViewDefinition engine: a bad view, or a bad FHIRPath inside one."""

from __future__ import annotations

from typing import Any

from medlake.errors import ConfigError


class ViewDefinitionError(ConfigError):
    """A ViewDefinition is invalid, or could not be evaluated; `element` names where."""

    def __init__(self, message: str, element: str | None = None, **context: Any) -> None:
        text = f"{element}: {message}" if element else message
        super().__init__(text, element=element, **context)


class FhirPathError(ViewDefinitionError):
    """A FHIRPath expression could not be read; `position` is the 0-based offset in it."""

    def __init__(self, message: str, expression: str, position: int, element: str | None = None) -> None:
        super().__init__(
            f"{message} at position {position} in FHIRPath `{expression}`",
            element=element,
            expression=expression,
            position=position,
            reason=message,
        )


class ViewCompileError(ViewDefinitionError):
    """A valid view uses something the DuckDB compiler cannot translate; `construct` names it."""
