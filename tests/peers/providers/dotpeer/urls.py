"""URLs of the test authorization server: DOT under `/o/` (token endpoint `/o/token/`, the
Django-OAuth-Toolkit style), its RFC 8414 metadata at the origin's root, and the test-only
control endpoints under `/__test/`."""

from django.urls import include, path
from oauth2_provider import urls as dot_urls

from . import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls")),
    path("", include((dot_urls.metadata_urlpatterns, "root_metadata"))),
    path("__test/stats", views.stats),
    path("__test/reset", views.reset),
    path("__test/clients", views.clients),
    path("__test/clients/client-credentials", views.create_client_credentials),
    path("__test/clients/public", views.create_public_client),
    path("__test/clients/<str:client_id>/delete", views.delete_client),
]
