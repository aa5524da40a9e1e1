"""What every output check shares: the tolerances, and the verdict on one tool's output."""

from __future__ import annotations

RTOL = 1e-9
ATOL = 1e-9


def result(problems: list[str], notes: list[str] = ()) -> dict:
    """One tool's verdict: ok when nothing is wrong, with what was wrong and what is worth knowing."""
    return {"ok": not problems, "problems": problems, "notes": list(notes)}
