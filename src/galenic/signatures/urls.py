from django.urls import path

from galenic.signatures import views

app_name = "signatures"
urlpatterns = [
    path("policy/", views.policy_page, name="policy"),
    path("policy/acknowledge/", views.policy_acknowledge, name="policy_acknowledge"),
    path("list/", views.object_signatures, name="object_signatures"),
]
