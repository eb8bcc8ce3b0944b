"""medlake.quality: data-quality checks declared in YAML, run as SQL in DuckDB (docs/quality.md).

    from medlake.quality import load_checks, run_checks, scores
    report = run_checks(project, "acme")      # results also land in _meta/check_results
    report.failed, report.blocked             # failed results; gold mart -> blocking check ids
    scores(lake)                              # latest run's score per source and dimension
"""

from medlake.quality.load import load_checks, load_file, parse_checks
from medlake.quality.model import CheckContext, CheckResult, CheckSpec, Outcome, builtin, builtins
from medlake.quality.run import CheckReport, evaluate, run_checks
from medlake.quality.scores import score_trend, scores
from medlake.quality.store import write_results

__all__ = [
    "CheckContext",
    "CheckReport",
    "CheckResult",
    "CheckSpec",
    "Outcome",
    "builtin",
    "builtins",
    "evaluate",
    "load_checks",
    "load_file",
    "parse_checks",
    "run_checks",
    "score_trend",
    "scores",
    "write_results",
]
