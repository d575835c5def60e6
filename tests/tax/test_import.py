"""Importing tax data from CSV (services.import_csv, q2c tax load): every bad row is named and
nothing is imported if any row is bad; good files upsert; --replace replaces what a file covers.
The data migration has loaded the shipped files into each test database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.core.errors import ValidationError
from q2c.platform.models import Event
from q2c.tax import services
from q2c.tax.engine import RateKind
from q2c.tax.models import CustomerExemption, TaxCode, TaxRate, TaxRule

pytestmark = pytest.mark.django_db

RATES_HEADER = "jurisdiction,kind,rate,valid_from,valid_to,category,source\n"


def test_the_data_migration_loaded_the_shipped_data():
    assert TaxRate.objects.filter(
        jurisdiction="DE", kind="standard", valid_to__isnull=True
    ).get().rate == Decimal("19")
    assert TaxRule.objects.count() == 25
    assert TaxCode.objects.filter(code="DIGITAL").exists()
    rules = services.load_ruleset()
    assert rules.rate("FR", RateKind.STANDARD, date(2027, 1, 1)).percent == 20


def test_load_ruleset_as_of_keeps_only_what_is_in_force_that_day():
    rules = services.load_ruleset(as_of=date(2020, 8, 1))
    assert rules.rate("DE", RateKind.STANDARD, date(2020, 8, 1)).percent == 16
    assert all(r.covers(date(2020, 8, 1)) for r in rules.rates)


def test_loading_the_shipped_data_twice_changes_nothing():
    before = TaxRate.objects.count()
    reports = services.load_shipped()
    assert TaxRate.objects.count() == before
    assert all(r.created == r.updated == 0 for r in reports)


def test_a_file_with_bad_rows_is_refused_whole_and_each_bad_row_is_named():
    text = RATES_HEADER + (
        "CH,standard,8.1,2024-01-01,,,ESTV\n"  # line 2: fine
        "XX,standard,8,2024-01-01,,,\n"  # line 3: unknown jurisdiction
        "CH,reduced,abc,2024-01-01,,,\n"  # line 4: not a number
        "CH,parking,3.8,2024-13-01,,,\n"  # line 5: not a date
        "CH,standard,8.1,2025-01-01,,,\n"  # line 6: overlaps line 2 (open-ended)
        "CH,zero,0,2024-01-01,,S,\n"  # line 7: S needs a rate above zero (BR-S-5)
    )
    with pytest.raises(ValidationError) as err:
        services.import_csv(text, source="ch.csv")
    assert err.value.code == "tax.csv_invalid"
    assert [(e["line"], e["field"]) for e in err.value.details] == [
        (3, "jurisdiction"),
        (4, "rate"),
        (5, "valid_from"),
        (6, "valid_from"),
        (7, "category"),
    ]
    assert not TaxRate.objects.filter(jurisdiction="CH").exists()  # not even line 2


def test_a_row_that_overlaps_a_stored_rate_is_refused():
    # DE standard 19 % is stored from 2021-01-01, open-ended; a 20 % from 2027-07-01 overlaps it.
    with pytest.raises(ValidationError) as err:
        services.import_csv(RATES_HEADER + "DE,standard,20,2027-07-01,,,\n")
    assert err.value.details[0]["line"] == 2
    assert "overlaps the stored rate" in err.value.details[0]["message"]


def test_a_good_file_upserts_by_key_and_records_an_event():
    text = RATES_HEADER + "CH,standard,8.1,2024-01-01,,,ESTV\nCH,reduced,2.6,2024-01-01,,,ESTV\n"
    report = services.import_csv(text, source="ch.csv", actor="tester")
    assert (report.created, report.updated) == (2, 0)
    changed = services.import_csv(RATES_HEADER + "CH,standard,8.1,2024-01-01,,,ESTV (2024)\n")
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 0)
    assert TaxRate.objects.get(jurisdiction="CH", kind="standard").source == "ESTV (2024)"
    event = Event.objects.filter(type="tax.data_imported").order_by("seq").first()
    assert event.payload["created"] == 2 and event.actor == "tester"


def test_replace_swaps_a_jurisdictions_rates_for_the_files():
    # Replacing the US table with one combined rate for California: other CA rows go, other
    # states' rows stay.
    text = RATES_HEADER + "US-CA,standard,8.75,2021-01-01,,,combined rate of Los Angeles\n"
    report = services.import_csv(text, replace=True)
    assert (report.updated, report.removed) == (1, 0)
    assert TaxRate.objects.get(jurisdiction="US-CA").rate == Decimal("8.75")
    assert TaxRate.objects.filter(jurisdiction="US-TX").exists()
    # DE with a file holding only the 2021 row: the historical rows of DE standard go.
    report = services.import_csv(RATES_HEADER + "DE,standard,19,2021-01-01,,,\n", replace=True)
    assert TaxRate.objects.filter(jurisdiction="DE").count() == 1
    assert report.removed > 0


def test_rules_import_and_replace():
    header = "seller,buyer,customer_kind,tax_category,supply_type,treatment,valid_from,valid_to,mention,reason_code,legal_basis\n"
    bad = header + "EU,eu,business,*,services,intra_community,2010-01-01,,,,\n"  # K is for goods only
    with pytest.raises(ValidationError) as err:
        services.import_csv(bad)
    assert err.value.details[0]["field"] == "supply_type"
    good = header + "CH,domestic,*,*,*,domestic,2024-01-01,,,,MWSTG\n"
    assert services.import_csv(good).created == 1
    report = services.import_csv(good, replace=True)
    assert report.removed == 25 and TaxRule.objects.count() == 1


def test_tax_codes_import_and_replace_deactivates_the_others():
    text = "code,name,tax_category,supply_type,exemption_reason\nBOOKS,Books,reduced_2,goods,\n"
    assert services.import_csv(text).created == 1
    services.import_csv(text, replace=True)
    assert set(TaxCode.objects.filter(active=True).values_list("code", flat=True)) == {"BOOKS"}
    with pytest.raises(ValidationError):
        services.import_csv("code,name,tax_category\nX,,nonsense\n")


def test_an_unknown_header_is_refused():
    with pytest.raises(ValidationError) as err:
        services.import_csv("country,percent\nDE,19\n")
    assert err.value.code == "tax.csv_header"
    with pytest.raises(ValidationError):
        services.import_csv(RATES_HEADER.strip() + ",colour\n")
    with pytest.raises(ValidationError):
        services.import_csv("# only a comment\n")


def test_the_load_command_imports_a_file_and_reports_counts(tmp_path):
    path = tmp_path / "ch.csv"
    path.write_text(RATES_HEADER + "CH,standard,8.1,2024-01-01,,,ESTV\n", encoding="utf-8")
    out = StringIO()
    call_command("tax", "load", "--file", str(path), stdout=out)
    assert "ch.csv: rates — 1 row(s): 1 created" in out.getvalue()


def test_the_load_command_refuses_a_bad_file_naming_each_row_and_exits_2(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        RATES_HEADER + "CH,standard,8.1,2024-01-01,,,\nCH,reduced,x,2024-01-01,,,\n", encoding="utf-8"
    )
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("tax", "load", "--file", str(path), stderr=err)
    assert exc.value.returncode == 2
    assert "line 3: rate" in err.getvalue()
    assert not TaxRate.objects.filter(jurisdiction="CH").exists()


def test_the_load_command_imports_nothing_unless_every_file_is_good(tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(RATES_HEADER + "CH,standard,8.1,2024-01-01,,,\n", encoding="utf-8")
    bad.write_text(RATES_HEADER + "NO,standard,x,2024-01-01,,,\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("tax", "load", "--file", str(good), "--file", str(bad), stderr=StringIO())
    assert not TaxRate.objects.filter(jurisdiction="CH").exists()


def test_the_load_command_names_a_missing_file():
    with pytest.raises(CommandError, match="cannot read"):
        call_command("tax", "load", "--file", "/nonexistent/rates.csv")


def test_exemptions_are_recorded_checked_and_found_by_date():
    services.record_exemption(
        account_id=7,
        certificate_ref="CA-RESALE-1",
        valid_from=date(2026, 1, 1),
        jurisdictions=["us-ca"],
        reason="resale",
    )
    assert services.exemption_for(7, date(2025, 12, 31)) is None
    found = services.exemption_for(7, date(2026, 6, 1))
    assert found is not None and found.jurisdictions == frozenset({"US-CA"})
    with pytest.raises(ValidationError) as err:
        services.record_exemption(
            account_id=7, certificate_ref="X", valid_from=date(2026, 1, 1), jurisdictions=["Mars"]
        )
    assert err.value.field == "jurisdictions"
    with pytest.raises(ValidationError):
        services.record_exemption(account_id=7, certificate_ref=" ", valid_from=date(2026, 1, 1))
    assert CustomerExemption.objects.count() == 1
    assert Event.objects.filter(type="tax.exemption_recorded").count() == 1


def test_vat_ids_are_checked_offline_for_format_and_check_digits():
    assert services.vat_id_is_valid("DE136457858")  # Acme Cloud (northwind.md)
    assert services.vat_id_is_valid("FR40303265045")  # Fabrikam
    assert services.vat_id_is_valid("GB980780684")  # HMRC's example number (UK, outside the EU module)
    assert not services.vat_id_is_valid("DE136457859")  # wrong check digit
    assert not services.vat_id_is_valid("")
    assert not services.vat_id_is_valid("XX123")
