"""The UI speaks Chinese by default, English on request, and the catalogue is complete."""

import re
from pathlib import Path

import pytest
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries(text: str):
    """(msgid, [msgstr...], flags) for each entry of a .po file."""
    for block in text.split("\n\n"):
        lines = block.strip().splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        current, parts = None, {"msgid": "", "msgstr": []}
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                if current.startswith("msgstr"):
                    parts["msgstr"].append(match.group(2))
                elif current == "msgid":
                    parts["msgid"] = match.group(2)
            elif line.startswith('"') and current:
                if current.startswith("msgstr"):
                    parts["msgstr"][-1] += line.strip('"')
                elif current == "msgid":
                    parts["msgid"] += line.strip('"')
        if parts["msgid"]:
            yield parts["msgid"], parts["msgstr"], flags


def test_every_string_is_translated_and_none_is_fuzzy():
    entries = list(_entries(PO.read_text(encoding="utf-8")))
    assert len(entries) > 400
    untranslated = [msgid for msgid, msgstrs, _ in entries if not all(msgstrs)]
    fuzzy = [msgid for msgid, _, flags in entries if "fuzzy" in flags]
    assert untranslated == [] and fuzzy == []


@pytest.mark.django_db
def test_chinese_is_the_default_and_english_is_available(client):
    chinese = client.get("/login/").content.decode()
    assert 'lang="zh-hans"' in chinese and "登录" in chinese
    english = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english and "Sign in" in english


@pytest.mark.django_db
def test_list_sort_labels_follow_the_language(client, rep):
    client.force_login(rep)
    assert "名称（降序）" in client.get("/customers/").content.decode()
    assert "Name (descending)" in client.get("/customers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
