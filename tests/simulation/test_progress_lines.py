"""``q2c demo`` writing to a log (not a terminal) says when each simulated month is lived."""

from __future__ import annotations

from datetime import date, timedelta

from q2c.simulation.demo import month_lines


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)


def test_one_line_per_month_lived_with_the_days_done():
    # 2027-01-30 → 2027-03-02: 32 days; January ends after day 2, February after day 30.
    out = Lines()
    tick = month_lines(out)
    days = [date(2027, 1, 30) + timedelta(days=i) for i in range(32)]
    for n, day in enumerate(days, start=1):
        tick(n, len(days), day.isoformat())
    assert out.lines == [
        "demo: 2027-01 lived (2 of 32 days)",
        "demo: 2027-02 lived (30 of 32 days)",
        "demo: 2027-03 lived (32 of 32 days)",
    ]
