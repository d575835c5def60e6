"""The cash benchmark's generator, its scoring and its camt.053 file (no timing here)."""

from collections import Counter

import pytest

from q2c.core.errors import ValidationError
from q2c.payments.bank import parse_file
from q2c.payments.matching import Application, BankLine, Outcome, Proposal, Status
from q2c.payments.matching.adapters import bank_lines
from q2c.payments.matching.benchmark import camt053_document, evaluate, generate, run_cash_bench


def test_the_generated_lines_follow_the_issues_noise_mix_exactly():
    data = generate(1000, 20000, seed=7)
    assert len(data.lines) == 1000
    # issue 14: 40 / 20 / 10 / 10 / 5 / 5 / 5 / 5 per cent of 1,000 lines
    assert Counter(data.category.values()) == {
        "rf_exact": 400,
        "number_typo": 200,
        "iban_amount": 100,
        "multi_invoice": 100,
        "bank_fee": 50,
        "foreign_name": 50,
        "partial": 50,
        "no_invoice": 50,
    }
    assert sum(1 for t in data.truth.values() if t is None) == 50


def test_the_truth_is_consistent_with_the_lines_and_the_open_items():
    data = generate(400, 4000, seed=3)
    open_amount = {it.item_id: it.open_minor for it in data.items}
    tolerance = data.settings.tolerance_minor("DE89370400440532013000", "EUR")
    settled: Counter[int | str] = Counter()
    for line in data.lines:
        truth = data.truth[line.line_id]
        if truth is None:
            continue
        assert sum(cash for _, cash, _ in truth) == line.amount_minor
        for item_id, cash, fee in truth:
            assert 0 <= fee <= tolerance
            settled[item_id] += cash + fee
        if data.category[line.line_id] == "multi_invoice":
            assert 2 <= len(truth) <= 5
    assert all(settled[i] <= open_amount[i] for i in settled)


def test_the_same_seed_gives_the_same_data():
    assert generate(100, 1000, seed=11).lines == generate(100, 1000, seed=11).lines


def test_a_benchmark_too_small_for_its_mix_is_refused():
    with pytest.raises(ValidationError) as error:
        generate(100, 150)
    assert error.value.code == "payments.bench_size"


def outcome(line_id: str, status: Status, rows: list[tuple[int, int, int]]) -> Outcome:
    apps = tuple(Application(i, f"INV-{i}", cash, fee, "EUR") for i, cash, fee in rows)
    return Outcome(line_id, status, Proposal(apps, 0, 0, "EUR", 95, ()))


def test_scores_count_auto_matches_over_lines_with_a_truth_and_precision_over_automatic_ones():
    data = generate(100, 1000, seed=5)
    lines = [BankLine(k, 100, "EUR", end_to_end_id=k) for k in ("a", "b", "c", "d")]
    truth = {"a": ((1, 100, 0),), "b": ((2, 100, 0),), "c": ((3, 90, 10),), "d": None}
    fake = type(data)(
        data.items, data.customers, data.payers, lines, truth, dict.fromkeys(truth, "x"), data.settings
    )
    scores = evaluate(
        [
            outcome("a", Status.AUTO, [(1, 100, 0)]),  # right
            outcome("b", Status.AUTO, [(9, 100, 0)]),  # wrong invoice
            outcome("c", Status.PROPOSED, [(3, 90, 10)]),  # right but left to a person
            Outcome("d", Status.UNIDENTIFIED),
        ],
        lines,
        fake,
    )
    # 2 of the 3 lines with a truth applied themselves; 1 of those 2 was right.
    assert scores["auto_matched_pct"] == 66.67
    assert scores["precision_pct"] == 50.0
    assert scores["auto_wrong"] == 1


def test_the_benchmark_file_is_a_camt_053_that_reads_back_line_for_line():
    data = generate(60, 600, seed=2)
    parsed = parse_file(camt053_document(data.lines, per_statement=25))
    assert parsed.format == "camt.053.001.08"
    assert len(parsed.statements) == 3
    assert parsed.warnings == ()  # balances chain and add up
    back = bank_lines(parsed.statements)
    assert [(b.end_to_end_id, b.amount_minor, b.payer_iban) for b in back] == [
        (ln.line_id, ln.amount_minor, ln.payer_iban) for ln in data.lines
    ]


def test_the_pure_pipeline_meets_the_issues_quality_targets_on_a_small_run():
    result = run_cash_bench(2000, 20000)
    assert {
        "lines",
        "open_items",
        "seconds",
        "auto_matched_pct",
        "precision_pct",
        "setup_s",
        "peak_rss_mb",
    } <= set(result)
    assert result["applications_written"] is False
    assert "not yet written" in result["note"]
    assert result["auto_matched_pct"] >= 95
    assert result["precision_pct"] >= 99.9
