from django.urls import URLPattern, URLResolver, path

from galenic.equipment import views

app_name = "equipment"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.equipment_list, name="list"),
    path("live/", views.live, name="live"),
    path("status/balance/", views.balance_status, name="balance_status_for"),
    path("status/balance/<str:code>/", views.balance_status, name="balance_status"),
    path("status/tag/<str:code>/", views.tag_status, name="tag_status"),
    path("<str:code>/", views.detail, name="detail"),
]
