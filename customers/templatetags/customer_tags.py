"""Badges the archive pages share: completeness and qualification-document state."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

BAND_CLASSES = {"high": "text-bg-success", "medium": "text-bg-warning", "low": "text-bg-danger"}


def completeness_band(value: int) -> str:
    if value >= 70:
        return "high"
    if value >= 40:
        return "medium"
    return "low"


@register.simple_tag
def completeness_badge(value: int, large: bool = False):
    css = BAND_CLASSES[completeness_band(value or 0)]
    size = " fs-5" if large else ""
    title = _("Archive completeness")
    return format_html('<span class="badge {}{}" title="{}">{}%</span>', css, size, title, value or 0)


@register.simple_tag
def document_badge(document):
    """Red when expired, amber with the days left inside the warning window."""
    state = document.expiry_state()
    if state == "expired":
        return format_html('<span class="badge text-bg-danger">{}</span>', _("Expired"))
    if state == "expiring":
        days = document.days_left()
        text = ngettext("Expires in %(days)d day", "Expires in %(days)d days", days) % {"days": days}
        return format_html('<span class="badge text-bg-warning">{}</span>', text)
    if document.expiry_date is None:
        return format_html('<span class="badge text-bg-light border">{}</span>', _("Long-term"))
    return format_html('<span class="badge text-bg-success">{}</span>', _("Valid"))


@register.simple_tag
def document_warning_badge(customer):
    """The list's warning for a customer annotated with has_expired_docs / has_expiring_docs."""
    if getattr(customer, "has_expired_docs", False):
        return format_html('<span class="badge text-bg-danger">{}</span>', _("Documents expired"))
    if getattr(customer, "has_expiring_docs", False):
        return format_html('<span class="badge text-bg-warning">{}</span>', _("Documents expiring"))
    return ""
