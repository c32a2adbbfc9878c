"""Forms of the foundation: the sign-in form with throttling."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from . import throttle

ERR_THROTTLED = _("Too many failed sign-in attempts. Please wait 15 minutes and try again, or ask an admin.")


class LoginForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if throttle.is_blocked(username, address):
            raise forms.ValidationError(ERR_THROTTLED, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(username, address)
            raise
        throttle.reset(username, address)
        return cleaned
