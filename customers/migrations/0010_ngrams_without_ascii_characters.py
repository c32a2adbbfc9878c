"""crm_ngrams no longer holds single ASCII characters (see customers/search.py).

Rows written before keep theirs until their search fields are next refreshed: no query
asks for them, so they only take room in the index."""

from django.db import migrations


def _ngrams(condition: str) -> str:
    return rf"""
CREATE OR REPLACE FUNCTION crm_ngrams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{{}}'::text[]) FROM (
        SELECT substr(t, i, 1) AS g FROM generate_series(1, length(t)) AS i
        UNION
        SELECT substr(t, i, 2) FROM generate_series(1, length(t) - 1) AS i
    ) grams
    WHERE {condition}
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_created_by_unchecked")]

    operations = [
        migrations.RunSQL(
            _ngrams(r"g !~ '\s' AND (length(g) = 2 OR ascii(g) > 127)"),
            _ngrams(r"g !~ '\s'"),
        ),
    ]
