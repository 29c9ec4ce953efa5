from django.urls import URLPattern, URLResolver, path

from galenic.audit import views

app_name = "audit"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.trail, name="trail"),
    path("verify/", views.verify, name="verify"),
]
