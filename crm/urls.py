"""Root URLs. Pages live under their app's namespace; the API under /api/ in the
"api" namespace so router names never shadow page names."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("crm.page_urls")),
    path("customers/", include("customers.urls")),
    path("sales/", include("sales.urls")),
    path("visits/", include("visits.urls")),
    path("imports/", include("crm.imports.urls")),
    path("api/", include("crm.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
