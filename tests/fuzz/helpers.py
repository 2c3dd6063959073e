"""What every fuzz target shares: the example budget of the chosen profile, the one check of an error (the
package's own, naming a field or file, short), and the tally of outcomes the long profile reports.

``LEPTON_NB_FUZZ=small`` (default, part of ``make test``) runs a few dozen examples per target;
``LEPTON_NB_FUZZ=long`` (``make fuzz``) runs 2,000. ``LEPTON_NB_FUZZ_TALLY=FILE`` writes the outcome
counts (success / clear error / silent acceptance) per target as JSON when the session ends.
"""

from __future__ import annotations

import os
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO

from hypothesis import HealthCheck, settings

from lepton_nb.errors import FieldError, LeptonError, RecipeError

PROFILE = os.environ.get("LEPTON_NB_FUZZ", "small")
EXAMPLES = {"small": 30, "long": 2000}.get(PROFILE, 30)
TALLY: Counter = Counter()


def fuzz(scale: float = 1.0, at_most: int | None = None) -> settings:
    """Hypothesis settings for one target: the profile's examples times ``scale`` (expensive targets use less)."""
    n = max(5, int(EXAMPLES * scale))
    return settings(max_examples=min(n, at_most) if at_most else n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def record(target: str, outcome: str) -> None:
    TALLY[(target, outcome)] += 1


def assert_clear(exc: BaseException, target: str, names: tuple[str, ...] = ()) -> None:
    """``exc`` is the package's error naming a field or file (one of ``names`` when given), and short."""
    assert isinstance(exc, LeptonError), f"{type(exc).__name__}: {exc}"
    text = str(exc)
    if isinstance(exc, RecipeError):
        fields = [p.field for p in exc.problems]
        assert fields and all(f.strip() for f in fields), text
    else:
        assert isinstance(exc, FieldError) and str(exc.field).strip(), text
        fields = [str(exc.field)]
    if names:
        assert any(n in text for n in names), f"names none of {names}: {text}"
    assert len(text) < 400 + 200 * len(fields), text[:500]
    record(target, "clear")


def run_cli(argv: list[str]) -> tuple[int, str]:
    """``lepton-nb ARGV`` in-process: (exit code, everything printed); argparse's own exits count too."""
    from lepton_nb.cli import main

    out = StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue()


def assert_cli_outcome(code: int, text: str, target: str) -> None:
    """Exit 0 or 2 with no traceback and no internal error."""
    assert code in (0, 2), (code, text[-800:])
    assert "Traceback" not in text and "internal error" not in text, text[-800:]
    record(target, "success" if code == 0 else "clear")
