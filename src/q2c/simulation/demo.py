"""The ``q2c demo`` step that builds and lives the demo company (registered in wiring.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from q2c.core.periods import add_months
from q2c.simulation.company import Company, Stats


def start_date(months: int, start: str | None) -> date:
    """``--start`` or, by default, the day that makes the simulation end at the real today."""
    if start:
        try:
            return date.fromisoformat(start)
        except ValueError:
            from q2c.core.errors import ValidationError

            raise ValidationError(f"--start {start!r} is not a date (YYYY-MM-DD)", field="start") from None
    return add_months(date.today(), -months)


def month_lines(stdout: Any) -> Callable[[int, int, str], None]:
    """Progress for a log: one line when a simulated month is done (day labels are ISO dates)."""
    seen: list[str] = []

    def tick(done: int, total: int, label: str) -> None:
        month = label[:7]
        if seen and seen[-1] != month:
            stdout.write(f"demo: {seen[-1]} lived ({done - 1} of {total} days)")
        if not seen or seen[-1] != month:
            seen.append(month)
        if done == total:
            stdout.write(f"demo: {month} lived ({done} of {total} days)")

    return tick


def simulate(
    stdout: Any = None,
    *,
    customers: int = 200,
    months: int = 24,
    seed: int = 1,
    start: str | None = None,
    progress: bool = True,
    **_: Any,
) -> Stats:
    from q2c.core.errors import ValidationError

    if not 1 <= customers <= 100_000:
        raise ValidationError("--customers is 1 to 100,000", field="customers")
    if not 1 <= months <= 120:
        raise ValidationError("--months is 1 to 120", field="months")
    company = Company(customers=customers, months=months, seed=seed, start=start_date(months, start))
    if progress and stdout is not None:
        from rich.console import Console
        from rich.progress import Progress

        if not Console().is_terminal:  # a log (make run piped, CI): a line per month instead of a bar
            stats = company.run(month_lines(stdout))
        else:
            with Progress(transient=True) as bar:
                task = bar.add_task("simulating", total=None)

                def tick(done: int, total: int, label: str) -> None:
                    bar.update(task, completed=done, total=total, description=f"simulating {label}")

                stats = company.run(tick)
    else:
        stats = company.run()
    if stdout is not None:
        stdout.write(
            f"demo company: {customers} customers, {company.start} → {company.end}: "
            f"{stats.opportunities} opportunities, {stats.quotes} quotes ({stats.won} won, {stats.lost} lost, "
            f"{stats.refused} refused), {stats.amendments} add-ons, {stats.downgrades} downgrades, "
            f"{stats.renewals} renewals, {stats.churned} churned, {stats.shipments} shipments, "
            f"{stats.usage_events} usage events, {stats.payments} card/direct-debit payments, "
            f"{stats.bank_files} bank statements, {stats.disputes} disputes, {stats.closed_periods} periods closed, "
            f"{stats.job_runs} daily job runs, {len(stats.errors)} refused steps"
        )
        for line in stats.errors[:10]:
            stdout.write(f"  refused: {line}")
    return stats
