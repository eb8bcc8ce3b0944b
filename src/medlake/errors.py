"""The one error tree of medlake.

Every error carries its context (tenant, source, file, record, position) as attributes, so
callers can quarantine, log ids without PHI, and decide whether to retry:

    MedlakeError
      ConfigError          the configuration is wrong; fix the file
      ParseError           bytes could not be read as the declared format
      MappingError         a record could not be mapped to FHIR
      SourceError          a connector could not fetch bytes
      LakeError            the lake could not be read or written
      QualityCheckFailed   a blocking data-quality check failed

`Transient` marks errors worth retrying (a busy table, a dropped connection); `Terminal`
marks errors that will fail the same way again.
"""

from __future__ import annotations

from typing import Any, Literal

ErrorLevel = Literal["ignore", "warn", "collect", "raise"]
"""How a parser reacts to a problem: drop it, log it, collect it for the caller, or raise now."""

ERROR_LEVELS: tuple[ErrorLevel, ...] = ("ignore", "warn", "collect", "raise")


class MedlakeError(Exception):
    """Base of every medlake error. Context lives in `context`, not only in the text."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context: dict[str, Any] = {k: v for k, v in context.items() if v is not None}

    def __reduce__(self) -> tuple[Any, ...]:
        # errors cross process boundaries (parallel stages): keep the context, whatever the
        # subclass's own constructor looks like
        return (_rebuild, (type(self), self.message, self.context))

    def __getattr__(self, name: str) -> Any:
        context = self.__dict__.get("context", {})
        if name in context:
            return context[name]
        raise AttributeError(name)


def _rebuild(cls: type[MedlakeError], message: str, context: dict[str, Any]) -> MedlakeError:
    err = cls.__new__(cls)
    MedlakeError.__init__(err, message, **context)
    return err


class Transient:
    """Marker: the same call may succeed if retried."""


class Terminal:
    """Marker: retrying will fail the same way."""


class ConfigError(MedlakeError, Terminal):
    """The configuration file or a value in it is invalid."""


class ParseError(MedlakeError, Terminal):
    """Input bytes could not be parsed; `context` names file and position."""


class MappingError(MedlakeError, Terminal):
    """A bronze record could not be mapped to FHIR."""


class SourceError(MedlakeError):
    """A connector could not fetch from its source."""


class TransientSourceError(SourceError, Transient):
    """A connector failed in a way that may pass on retry."""


class LakeError(MedlakeError):
    """The lake could not be read or written."""


class TableBusyError(LakeError, Transient):
    """A Delta commit lost a race and ran out of retries."""


class QualityCheckFailed(MedlakeError, Terminal):
    """A blocking data-quality check failed."""


class MissingExtraError(MedlakeError, Terminal):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"`{package}` is not installed; it is needed for this feature. "
            f"Install it with: pip install 'medlake[{extra}]'",
            package=package,
            extra=extra,
        )
