from django.urls import path

from galenic.review import views

app_name = "review"
urlpatterns = [
    path("", views.review_list, name="list"),
    path("<str:number>/", views.review_detail, name="detail"),
    path("<str:number>/record/", views.full_record, name="record"),
    path("<str:number>/items/<int:item_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<str:number>/items/<int:item_id>/audit/", views.item_audit, name="item_audit"),
    path("<str:number>/sign/", views.sign, name="sign"),
    path("<str:number>/release/", views.release, name="release"),
    path("<str:number>/reject/", views.reject, name="reject"),
]
