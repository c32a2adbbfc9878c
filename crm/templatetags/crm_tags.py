"""Template helpers every page uses: Bootstrap classes on form widgets, and links
that change one query parameter (pagination, sorting) while keeping the others."""

from django import forms, template
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


def _widget_class(bound_field) -> str:
    widget = bound_field.field.widget
    if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect)):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.filter
def bs(bound_field, size: str = ""):
    """The field's widget with Bootstrap's classes, and `is-invalid` when it has errors."""
    widget = bound_field.field.widget
    classes = [widget.attrs.get("class", ""), _widget_class(bound_field)]
    if size:
        classes.append(f"{_widget_class(bound_field)}-{size}")
    attrs = {}
    if bound_field.errors:
        classes.append("is-invalid")
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{bound_field.auto_id}_error"
    attrs["class"] = " ".join(c for c in classes if c)
    return bound_field.as_widget(attrs=attrs)


@register.filter
def check_input(option, invalid: bool = False):
    """One radio button or checkbox of a multiple-choice widget, with Bootstrap's class."""
    option.data["attrs"] = {**option.data["attrs"], "class": "form-check-input" + (" is-invalid" if invalid else "")}
    return option.tag(wrap_label=False)


@register.simple_tag(takes_context=True)
def query_replace(context, **changes) -> str:
    """The current query string with some parameters replaced (None or "" removes one)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context, field: str, label) -> str:
    """A column heading that sorts by `field`, then reverses on the next click."""
    params = context["request"].GET.copy()
    current = params.get("ordering", "")
    params.pop("page", None)
    arrow = ""
    if current == field:
        params["ordering"] = f"-{field}"
        arrow = " ▲"
    elif current == f"-{field}":
        params["ordering"] = field
        arrow = " ▼"
    else:
        params["ordering"] = field
    title = _("Sort by %(field)s") % {"field": label}
    return format_html(
        '<a href="?{}" class="link-body-emphasis link-underline-opacity-0" title="{}">{}{}</a>',
        params.urlencode(),
        title,
        label,
        arrow,
    )
