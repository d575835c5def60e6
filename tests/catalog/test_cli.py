"""q2c catalog import / export / check-rules."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from q2c.catalog.models import Product

pytestmark = pytest.mark.django_db


def test_a_file_is_imported_and_exported(tmp_path, capsys):
    source = tmp_path / "products.csv"
    source.write_text("sku,name,type,unit\nSEAT,Seat,subscription,seat\n")
    call_command("catalog", "import", "products", str(source))
    assert "imported 1 rows: 1 new, 0 updated" in capsys.readouterr().out
    out = tmp_path / "out.xlsx"
    call_command("catalog", "export", "products", "--format", "xlsx", "--out", str(out))
    assert out.stat().st_size > 0
    assert capsys.readouterr().out.startswith("wrote")
    call_command("catalog", "export", "charges")
    assert capsys.readouterr().out.startswith("sku,code,name,kind")


def test_a_bad_file_prints_every_row_and_exits_non_zero(tmp_path, capsys):
    source = tmp_path / "products.csv"
    source.write_text("sku,name,type,unit\nA,A,gizmo,each\nB,B,good,parsec\n")
    with pytest.raises(CommandError) as exc:
        call_command("catalog", "import", "products", str(source))
    assert exc.value.returncode == 2
    err = capsys.readouterr().err
    assert "row 2, type:" in err and "row 3, unit:" in err
    assert not Product.objects.exists()


def test_rules_are_checked(capsys):
    call_command("catalog", "check-rules")
    assert "no cycles" in capsys.readouterr().out
