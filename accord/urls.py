from django.contrib import admin
from django.urls import include, path

from accord.api import api
from accord.web.auth import ThrottledAdminAuthenticationForm

admin.site.site_header = "Accord administration"
admin.site.site_title = "Accord"
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accord.web.urls")),
]
handler403 = "accord.web.auth.permission_denied"
