"""Cash application (issue 14): the workbench pages under /cash/ and the benchmarks.

``q2c bench cash`` is the end-to-end one (import, matching and applications written through the
payments service); ``q2c bench cash-engine`` the pure pipeline (import and matching, no database).

Part of the composition root: called once by ``q2c.wiring.wire()``.
"""

from __future__ import annotations


def wire() -> None:
    from q2c.payments.cash import bench as cash_bench
    from q2c.payments.matching import benchmark as engine_bench
    from q2c.platform import ui
    from q2c.platform.registry import Bench, benches

    ui.add_nav("Cash", "/cash/", roles={"finance", "viewer"})
    benches.add(
        "cash",
        Bench(
            "cash",
            "cash application end to end: q2c bank import of a camt.053 file with N lines against M open "
            "invoices — stored, matched, automatic matches applied through the payments service",
            cash_bench.add_arguments,
            cash_bench.run,
        ),
    )
    benches.add(
        "cash-engine",
        Bench(
            "cash-engine",
            "pure cash-application pipeline: camt.053 import + matching of N lines against M open items (no database)",
            engine_bench.add_arguments,
            engine_bench.run,
        ),
    )
