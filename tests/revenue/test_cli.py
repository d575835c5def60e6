"""q2c revenue preview FILE.json: JSON out on success; a message naming the field and exit 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from .helpers import CONTRACTS


def q2c(*args: str, tmp_path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, Q2C_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="q2c.settings")
    env.pop("Q2C_TEST_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "q2c", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def test_preview_prints_the_allocation_and_schedule_as_json():
    out = StringIO()
    call_command("revenue", "preview", str(CONTRACTS / "northwind.json"), stdout=out)
    result = json.loads(out.getvalue())
    assert [r["allocated"] for r in result["contracts"][0]["allocation"][:3]] == [
        "16823.08",
        "3738.46",
        "3738.46",
    ]
    assert result["schedule"][1] == {
        "month": "2027-02",
        "recognised_on": "2027-02-28",
        "amount": "8767.46",
        "cumulative": "8767.46",
    }


def test_preview_can_print_the_json_schema():
    out = StringIO()
    call_command("revenue", "preview", "-", "--schema", stdout=out)
    assert json.loads(out.getvalue())["$id"] == "urn:q2c:schema:revenue-preview:1"


def test_bad_input_names_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "currency": "EUR",
                "start": "2027-01-01",
                "obligations": [
                    {"id": "A", "pattern": "ratable", "start": "2027-02-01", "end": "2027-01-01"}
                ],
            }
        )
    )
    with pytest.raises(CommandError) as exc:
        call_command("revenue", "preview", str(bad))
    assert exc.value.returncode == 2
    assert "obligations[0].end" in str(exc.value)
    assert "revenue.period_reversed" in str(exc.value)


def test_a_missing_file_is_a_message_not_a_traceback(tmp_path):
    with pytest.raises(CommandError) as exc:
        call_command("revenue", "preview", str(tmp_path / "nope.json"))
    assert exc.value.returncode == 2
    assert "cannot read" in str(exc.value)


def test_the_console_script_exits_2_on_floats_and_0_on_a_good_file(tmp_path):
    bad = q2c(
        "revenue",
        "preview",
        "-",
        tmp_path=tmp_path,
        stdin='{"currency": "EUR", "start": "2027-01-01", '
        '"transaction_price": {"fixed": 99.5}, "obligations": [{"id": "A", "pattern": "point_in_time"}]}',
    )
    assert bad.returncode == 2
    assert "transaction_price.fixed" in bad.stderr
    assert "Traceback" not in bad.stderr
    good = q2c("revenue", "preview", str(CONTRACTS / "northwind.json"), "--compact", tmp_path=tmp_path)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["totals"]["allocated"] == "28129.84"
