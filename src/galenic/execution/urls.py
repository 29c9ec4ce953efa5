from django.urls import URLPattern, URLResolver, path

from galenic.execution import views

app_name = "execution"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.batch_list, name="list"),
    path("new/", views.batch_new, name="new"),
    path("<str:number>/", views.batch_detail, name="batch"),
    path("<str:number>/release/", views.release, name="release"),
    path("<str:number>/start/", views.start, name="start"),
    path("<str:number>/hold/", views.hold, name="hold"),
    path("<str:number>/resume/", views.resume, name="resume"),
    path("<str:number>/complete/", views.complete, name="complete"),
    path("<str:number>/document/<str:name>", views.document_file, name="document_file"),
    path("<str:number>/entries/<int:entry_id>/correct/", views.correct, name="correct"),
    path("<str:number>/steps/<str:key>/", views.step_detail, name="step"),
    path("<str:number>/steps/<str:key>/record/", views.record, name="record"),
    path("<str:number>/steps/<str:key>/comment/", views.comment, name="comment"),
    path("<str:number>/steps/<str:key>/attach/", views.attach, name="attach"),
    path("<str:number>/steps/<str:key>/perform/", views.perform, name="perform"),
    path("<str:number>/steps/<str:key>/verify/", views.verify, name="verify"),
    path("<str:number>/steps/<str:key>/approve/", views.approve, name="approve"),
]
