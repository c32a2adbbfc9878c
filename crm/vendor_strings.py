"""Strings shown by installed packages that ship no Simplified Chinese (zh_Hans)
translation of them: listed here so `makemessages` keeps them in our catalogue, where
they take precedence over the packages' own (LOCALE_PATHS comes first)."""

from django.utils.translation import gettext_noop

VENDOR_STRINGS = [
    # django-filter ships zh_CN only
    gettext_noop("%s (descending)"),
    gettext_noop("Ordering"),
    gettext_noop("Multiple values may be separated by commas."),
    gettext_noop("Range query expects two values."),
    gettext_noop("Field filters"),
    # Django 5.2's admin
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
]
