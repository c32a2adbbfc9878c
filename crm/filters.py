"""Filters every list's FilterSet may use."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _


class YesNoFilter(django_filters.BooleanFilter):
    """A yes / no / any select that reads well in a filter panel (django-filter's own
    offers "Unknown")."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]))
        super().__init__(*args, **kwargs)
