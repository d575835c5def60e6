"""``q2c bench cash`` end to end on a small run: the writes happen (payments and applications in
the database) and the scores read back from them agree with the generator's truth. No timing."""

from __future__ import annotations

import pytest

from q2c.payments.cash.bench import run
from q2c.payments.cash.models import BankLine, CashApplication
from q2c.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_a_small_end_to_end_run_writes_its_applications_and_scores_them():
    out = run(lines=40, open_items=400, seed=5)
    assert (out["lines"], out["open_items"], out["lines_stored"], out["applications_written"]) == (40, 400, 40, True)
    assert out["precision_pct"] == 100.0
    assert out["auto_wrong"] == 0
    assert out["auto_matched_pct"] >= 90
    # One payment per automatically applied line; every stored line was decided.
    assert Payment.objects.count() == out["auto_applied"] == out["matching"]["applied"]
    assert CashApplication.objects.filter(how="auto").values("line_id").distinct().count() == out["auto_applied"]
    assert not BankLine.objects.filter(state="new").exists()
