"""The SQL pieces the ORM cannot declare: the n-gram function behind customer search
(see customers/search.py) and the sequence customer codes are drawn from."""

from django.db import migrations

NGRAMS = r"""
CREATE OR REPLACE FUNCTION crm_ngrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{}'::text[]) FROM (
        SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i
        UNION
        SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i
    ) grams
    WHERE g !~ '\s'
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial")]

    operations = [
        migrations.RunSQL(NGRAMS, "DROP FUNCTION IF EXISTS crm_ngrams(text);"),
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS customers_customer_code_seq START 1;",
            "DROP SEQUENCE IF EXISTS customers_customer_code_seq;",
        ),
    ]
