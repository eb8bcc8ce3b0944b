"""docs/cli.md is generated from --help; this keeps them in sync."""

from __future__ import annotations

from pathlib import Path

from medlake.cli.reference import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_matches_help() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `python -m medlake.cli.reference > docs/cli.md`"
    )


def test_every_command_help_has_an_example() -> None:
    text = render()
    sections = text.split("## medlake ")[1:]
    assert len(sections) >= 8
    for s in sections:
        assert "Example: medlake " in s, s.splitlines()[0]
