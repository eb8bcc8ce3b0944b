"""Gateway to the optional scikit-learn dependency (extra `ml`)."""

from __future__ import annotations

from medlake.errors import ConfigError


def sklearn_version() -> str:
    """scikit-learn's version, or a ConfigError naming the extra to install."""
    try:
        import sklearn
    except ImportError:
        raise ConfigError(
            "`medlake ml` needs scikit-learn, which is not installed. "
            "Install it with: pip install 'medlake[ml]'",
            extra="ml",
        ) from None
    return str(sklearn.__version__)
