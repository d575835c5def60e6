import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountinvoicing",
            name="email_xml",
            field=models.BooleanField(
                blank=True, help_text="attach the XML (None = the entity's)", null=True
            ),
        ),
        migrations.AddField(
            model_name="accountinvoicing",
            name="formats",
            field=models.CharField(
                blank=True,
                default="",
                help_text="documents rendered at issue ('' = the entity's)",
                max_length=60,
            ),
        ),
        migrations.AddField(
            model_name="emaildelivery",
            name="attachments",
            field=models.CharField(
                blank=True, default="", help_text="formats attached: pdf, ubl …", max_length=200
            ),
        ),
        migrations.AddField(
            model_name="emaildelivery",
            name="requested_by",
            field=models.CharField(
                blank=True, default="", help_text="who asked for a resend", max_length=150
            ),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="tiers",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="usage tier breakdown: lower, upper, quantity, unit_price, amount",
            ),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="supply_type",
            field=models.CharField(
                blank=True,
                default="",
                help_text="goods or services where the category does not say",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="invoicingsettings",
            name="email_xml",
            field=models.BooleanField(
                default=True, help_text="attach the e-invoice XML (UBL/CII) to the e-mail beside the PDF"
            ),
        ),
        migrations.CreateModel(
            name="InvoicePayment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                (
                    "amount_minor",
                    models.BigIntegerField(help_text="invoice currency; negative when taken back"),
                ),
                ("base_minor", models.BigIntegerField(help_text="entity currency; negative when taken back")),
                ("reference", models.CharField(blank=True, default="", max_length=200)),
                ("created_at", models.DateTimeField()),
                (
                    "invoice",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="invoicing.invoice",
                    ),
                ),
            ],
            options={
                "db_table": "invoicing_invoice_payment",
                "ordering": ["invoice_id", "id"],
                "indexes": [models.Index(fields=["invoice", "day"], name="invoicing_payment_day")],
            },
        ),
    ]
