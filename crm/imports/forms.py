"""Forms of the import pages: the upload, the column mapping, the commit, and the
history's filter."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm.models import ImportJob, User

from . import base

# Values an admin may give for new records where the file has none, and the
# importers whose columns they fill (an importer without the column ignores it).
DEFAULT_FIELDS = ("owner", "industry", "type")


def kind_choices() -> list[tuple[str, str]]:
    return [(kind, base.get(kind).label) for kind in base.kinds()]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=kind_choices)
    file = forms.FileField(
        label=_("File"),
        help_text=_("An .xlsx workbook or a CSV file (UTF-8 or GBK), with a header row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"}),
    )
    mode = forms.ChoiceField(
        label=_("When rows are rejected"),
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_VALID,
        widget=forms.RadioSelect,
        help_text=_("You can still change this after the dry run."),
    )
    destroyed = forms.ChoiceField(
        label=_("Mobiles or credit codes Excel turned into numbers like 1.38E+10"),
        choices=ImportJob.Destroyed.choices,
        initial=ImportJob.Destroyed.REJECT,
        widget=forms.RadioSelect,
    )
    owner = forms.ModelChoiceField(
        label=_("Owner rep"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— the importing admin —"),
        help_text=_("Used where the file has no owner rep."),
    )
    industry = forms.ChoiceField(
        label=_("Industry"),
        required=False,
        help_text=_("Used where the file has no industry."),
    )
    type = forms.ChoiceField(label=_("Customer type"), required=False, help_text=_("Used where the file has no type."))

    def __init__(self, *args, **kwargs):
        from customers.models import Customer

        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")
        self.fields["industry"].choices = [("", "—"), *Customer.Industry.choices]
        self.fields["type"].choices = [("", "—"), *Customer.Type.choices]

    def defaults(self) -> dict:
        """{column name: raw value} for the kind's importer, as the engine takes them."""
        importer = base.get(self.cleaned_data["kind"])
        names = {column.name for column in importer.columns}
        values = {
            "owner": self.cleaned_data["owner"].username if self.cleaned_data.get("owner") else "",
            "industry": self.cleaned_data.get("industry") or "",
            "type": self.cleaned_data.get("type") or "",
        }
        return {name: value for name, value in values.items() if value and name in names}


NOT_IMPORTED = ""


class MappingForm(forms.Form):
    """One select per column of the file: the field it fills, or not imported."""

    remember = forms.BooleanField(
        label=_("Remember this mapping for the next file with the same headers"), required=False, initial=True
    )

    def __init__(self, *args, job: ImportJob, **kwargs):
        super().__init__(*args, **kwargs)
        importer = base.get(job.kind)
        required = {name for group in importer.required_columns for name in group}
        choices = [(NOT_IMPORTED, _("— not imported —"))] + [
            (column.name, f"{capfirst(column.label)} *" if column.name in required else capfirst(column.label))
            for column in importer.columns
        ]
        self.column_names = []
        for index, header in enumerate(job.headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("(column %(number)d, no header)") % {"number": index + 1},
                choices=choices,
                required=False,
                initial=job.mapping[index] if index < len(job.mapping) else NOT_IMPORTED,
            )
            self.column_names.append(name)
        # The checkbox after the columns.
        self.order_fields([*self.column_names, "remember"])

    def columns(self) -> list[str]:
        return [self.cleaned_data.get(name) or NOT_IMPORTED for name in self.column_names]


class CommitForm(forms.Form):
    mode = forms.ChoiceField(label=_("What to import"), choices=ImportJob.Mode.choices, widget=forms.RadioSelect)


class ImportJobFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=kind_choices, empty_label=_("Any"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ImportJob.Status.choices, empty_label=_("Any"))
    q = django_filters.CharFilter(label=_("File name or SHA-256"), method="search")

    class Meta:
        model = ImportJob
        fields = ["q", "kind", "status"]

    def search(self, queryset, name, value):
        value = value.strip()
        if len(value) >= 8 and all(ch in "0123456789abcdefABCDEF" for ch in value):
            return queryset.filter(Q(original_name__icontains=value) | Q(sha256__startswith=value.lower()))
        return queryset.filter(original_name__icontains=value)
