"""Generate docs/cli.md from the commands' own `--help` (a test keeps the file in sync).

Run: python -m medlake.cli.reference > docs/cli.md
"""

from __future__ import annotations

import sys


def render() -> str:
    from typer.testing import CliRunner

    from medlake.cli.main import app

    runner = CliRunner()
    parts = [
        "# CLI reference\n",
        "Generated from `medlake --help` by `python -m medlake.cli.reference > docs/cli.md`;",
        "`tests/cli/test_reference.py` fails when this file and the help text disagree.\n",
    ]

    def help_of(args: list[str]) -> str:
        res = runner.invoke(app, [*args, "--help"], terminal_width=100, env={"COLUMNS": "100"})
        return res.output.rstrip()

    parts.append("## medlake\n\n```\n" + help_of([]) + "\n```\n")
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    for name in names:
        parts.append(f"## medlake {name}\n\n```\n" + help_of([name]) + "\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
