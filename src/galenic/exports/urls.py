from django.urls import path

from galenic.exports import views

app_name = "exports"
urlpatterns = [
    # Download links other pages embed: {% url "exports:mbr_pdf" version.pk %} (and _yaml, _json),
    # or {% include "exports/_mbr_links.html" with version=version %}.
    path("mbr-versions/<int:version_id>.pdf", views.mbr_file, {"fmt": "pdf"}, name="mbr_pdf"),
    path("mbr-versions/<int:version_id>.yaml", views.mbr_file, {"fmt": "yaml"}, name="mbr_yaml"),
    path("mbr-versions/<int:version_id>.json", views.mbr_file, {"fmt": "json"}, name="mbr_json"),
    # The complete record (document, signatures, audit trail) for `galenic export verify`.
    path(
        "mbr-versions/<int:version_id>.record.json",
        views.mbr_file,
        {"fmt": "record"},
        name="mbr_record",
    ),
    # {% url "exports:batch_pdf" batch.number %} (and _json, _csv)
    path("batches/<str:number>.pdf", views.batch_file, {"fmt": "pdf"}, name="batch_pdf"),
    path("batches/<str:number>.json", views.batch_file, {"fmt": "json"}, name="batch_json"),
    path("batches/<str:number>.csv", views.batch_file, {"fmt": "csv"}, name="batch_csv"),
]
