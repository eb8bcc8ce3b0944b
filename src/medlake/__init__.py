"""medlake: an open-source healthcare lakehouse (bronze → FHIR R4 silver → gold)."""

__version__ = "0.1.0"
