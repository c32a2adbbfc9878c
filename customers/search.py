"""Search text for customers: what is searchable, and the n-grams the index holds.

The SQL function crm_ngrams (migration 0002) and `ngrams()` below must agree: the
index holds every single character and every pair of adjacent characters of the
lower-cased search text, skipping whitespace.
"""

import re
import unicodedata

# One UPDATE recomputes search text and tokens for a set of customers: the name,
# code, mobile, credit code and each contact's name and mobile.
REFRESH_SQL = """
UPDATE customers_customer c
SET search_text = s.text, search_tokens = crm_ngrams(s.text)
FROM (
    SELECT c2.id, lower(concat_ws(' ', c2.name, c2.code, c2.phone, c2.credit_code,
        (SELECT string_agg(concat_ws(' ', ct.name, ct.mobile), ' ')
         FROM customers_contact ct WHERE ct.customer_id = c2.id))) AS text
    FROM customers_customer c2
    WHERE c2.id = ANY(%s)
) s
WHERE c.id = s.id
"""


def normalize_search_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", " ", text).strip()


def ngrams(needle: str) -> list[str]:
    """The n-grams every row containing `needle` must hold (one term, no spaces)."""
    grams = set()
    for term in needle.split():
        if len(term) == 1:
            grams.add(term)
        grams.update(term[i : i + 2] for i in range(len(term) - 1))
    return sorted(grams)
