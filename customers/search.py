"""Search text for customers: what is searchable, and the n-grams the index holds.

The SQL function crm_ngrams (migration 0010) and `all_ngrams()` below must agree: the
index holds every pair of adjacent characters of the lower-cased search text and every
single character beyond ASCII, skipping whitespace. A single ASCII letter or digit is
in nearly every customer's codes and numbers: indexing it would cost a quarter of the
index's entries and answer no search a scan of the text would not answer as well.
"""

import re
import unicodedata

# A customer's search text: the name, code, mobile, credit code and each contact's
# name and mobile.
SEARCH_TEXT_SQL = """lower(concat_ws(' ', c2.name, c2.code, c2.phone, c2.credit_code,
        (SELECT string_agg(concat_ws(' ', ct.name, ct.mobile), ' ')
         FROM customers_contact ct WHERE ct.customer_id = c2.id)))"""

# One UPDATE recomputes search text and tokens for a set of customers.
REFRESH_SQL = f"""
UPDATE customers_customer c
SET search_text = s.text, search_tokens = crm_ngrams(s.text)
FROM (
    SELECT c2.id, {SEARCH_TEXT_SQL} AS text
    FROM customers_customer c2
    WHERE c2.id = ANY(%s)
) s
WHERE c.id = s.id
"""

# The customers among a set whose stored search text is not what REFRESH_SQL would store.
STALE_SQL = f"""
SELECT c2.id FROM customers_customer c2
WHERE c2.id = ANY(%s) AND c2.search_text IS DISTINCT FROM {SEARCH_TEXT_SQL}
"""


def normalize_search_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", " ", text).strip()


def ngrams(needle: str) -> list[str]:
    """The n-grams every row containing `needle` must hold; none for a needle of single
    ASCII characters (the search then reads the text)."""
    grams = set()
    for term in needle.split():
        if len(term) == 1 and not term.isascii():
            grams.add(term)
        grams.update(term[i : i + 2] for i in range(len(term) - 1))
    return sorted(grams)


def search_text_of(name: str, code: str, phone: str, credit_code: str | None, contacts=()) -> str:
    """What REFRESH_SQL stores as search_text, computed in Python for rows about to be
    written (the importer): concat_ws skips NULLs but keeps empty strings. `contacts`
    is a sequence of (name, mobile). Callers check the result against the SQL."""
    parts = [name, code, phone]
    if credit_code is not None:
        parts.append(credit_code)
    if contacts:
        parts.append(" ".join(f"{contact_name} {mobile or ''}" for contact_name, mobile in contacts))
    return " ".join(parts).lower()


_ASCII = frozenset(map(chr, range(128)))


def all_ngrams(text: str) -> list[str]:
    """crm_ngrams(text) in Python: every pair of adjacent characters and every
    character beyond ASCII, none holding whitespace, each once. Sorted: PostgreSQL
    sorts an array's entries before it indexes them, which is much quicker when they
    already are (an import writes 100,000 rows of them)."""
    words = text.split()
    grams = set("".join(words)) - _ASCII
    for word in words:
        grams.update(map(str.__add__, word, word[1:]))
    return sorted(grams)
