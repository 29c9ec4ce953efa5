from django.urls import include, path

from galenic.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("accounts/", include("galenic.accounts.urls")),
    path("audit/", include("galenic.audit.urls")),
    path("signatures/", include("galenic.signatures.urls")),
    path("equipment/", include("galenic.equipment.urls")),
    path("mbrs/", include("galenic.recipes.urls")),
    path("batches/", include("galenic.execution.urls")),
    path("exports/", include("galenic.exports.urls")),
    path("review/", include("galenic.review.urls")),
    path("", include("galenic.core.urls")),
]

handler400 = "galenic.core.handlers.bad_request"
handler403 = "galenic.core.handlers.forbidden"
handler404 = "galenic.core.handlers.not_found"
handler500 = "galenic.core.handlers.server_error"
