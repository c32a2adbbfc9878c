"""Sequences that contract, order and payment numbers are drawn from."""

from django.db import migrations

SEQUENCES = ["sales_contract_number_seq", "sales_order_number_seq", "sales_payment_number_seq"]


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [
        migrations.RunSQL(f"CREATE SEQUENCE IF NOT EXISTS {name};", f"DROP SEQUENCE IF EXISTS {name};")
        for name in SEQUENCES
    ]
