from django.urls import URLPattern, URLResolver, path

from galenic.equipment import views

app_name = "equipment"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.equipment_list, name="list"),
    path("live/", views.live, name="live"),
    path("<str:code>/", views.detail, name="detail"),
]
