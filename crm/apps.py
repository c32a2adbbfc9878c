from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CRMConfig(AppConfig):
    name = "crm"
    verbose_name = _("Foundation")

    def ready(self):
        # Each app declares its spreadsheet importers beside its models.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("importers")
