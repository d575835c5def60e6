"""Load the shipped tax data (EU/UK VAT rates, Canary Islands IGIC, US state sales tax, rules,
tax codes) on install, so that a new database can compute tax at once. Later updates of the files
are loaded with `q2c tax load`, which upserts; this migration only inserts what is missing.

Uses the historical models and the pure CSV reader (q2c.tax.csvio), never the services."""

from django.db import migrations


def seed(apps, schema_editor):
    from q2c.tax import csvio

    TaxRate = apps.get_model("tax", "TaxRate")
    TaxRule = apps.get_model("tax", "TaxRule")
    TaxCode = apps.get_model("tax", "TaxCode")
    rate_keys = set(TaxRate.objects.values_list("jurisdiction", "kind", "valid_from"))
    rule_keys = set(
        TaxRule.objects.values_list(
            "seller", "buyer", "customer_kind", "tax_category", "supply_type", "valid_from"
        )
    )
    code_keys = set(TaxCode.objects.values_list("code", flat=True))
    rates, rules, codes = [], [], []
    for name, parsed in csvio.read_shipped():
        if parsed.errors:
            raise RuntimeError(f"{name}: {parsed.errors[0]}")
        for _, r in parsed.rates:
            if (r.jurisdiction, str(r.kind), r.valid_from) not in rate_keys:
                rates.append(
                    TaxRate(
                        jurisdiction=r.jurisdiction,
                        kind=str(r.kind),
                        rate=r.percent,
                        valid_from=r.valid_from,
                        valid_to=r.valid_to,
                        category=str(r.category) if r.category else "",
                        source=r.source,
                    )
                )
        for _, r in parsed.rules:
            if (*r.key, r.valid_from) not in rule_keys:
                rules.append(
                    TaxRule(
                        seller=r.seller,
                        buyer=r.buyer,
                        customer_kind=r.customer_kind,
                        tax_category=r.tax_category,
                        supply_type=r.supply_type,
                        treatment=str(r.treatment),
                        valid_from=r.valid_from,
                        valid_to=r.valid_to,
                        mention=r.mention,
                        reason_code=r.reason_code,
                        legal_basis=r.legal_basis,
                    )
                )
        for _, c in parsed.tax_codes:
            if c.code not in code_keys:
                codes.append(
                    TaxCode(
                        code=c.code,
                        name=c.name,
                        tax_category=str(c.tax_category),
                        supply_type=str(c.supply_type) if c.supply_type else "",
                        exemption_reason=c.exemption_reason,
                    )
                )
    TaxRate.objects.bulk_create(rates)
    TaxRule.objects.bulk_create(rules)
    TaxCode.objects.bulk_create(codes)


class Migration(migrations.Migration):
    dependencies = [("tax", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
