from django.urls import URLPattern, URLResolver, path, register_converter

from galenic.recipes import views


class CodeConverter:
    """An MBR code as the document allows it, without '/' (refused when an MBR is created)."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CodeConverter, "mbr")

app_name = "recipes"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.mbr_list, name="list"),
    path("new/", views.mbr_new, name="new"),
    path("attachments/<str:sha256>/", views.attachment, name="attachment"),
    path("<mbr:code>/", views.mbr_detail, name="detail"),
    path("<mbr:code>/diff/", views.diff_page, name="diff"),
    path("<mbr:code>/v<int:number>/", views.version_detail, name="version"),
    path(
        "<mbr:code>/v<int:number>/export.<fmt>",
        views.version_export,
        name="export",
    ),
    path("<mbr:code>/v<int:number>/dry-run/", views.dry_run_page, name="dry_run"),
    path("<mbr:code>/v<int:number>/sign/<str:action>/", views.sign, name="sign"),
    path("<mbr:code>/v<int:number>/do/<str:action>/", views.reason_action, name="action"),
    path("<mbr:code>/v<int:number>/new-version/", views.new_version, name="new_version"),
    path("<mbr:code>/v<int:number>/builder/", views.builder_page, name="builder"),
    path("<mbr:code>/v<int:number>/builder/op/", views.builder_op, name="builder_op"),
    path("<mbr:code>/v<int:number>/builder/item/", views.builder_item, name="builder_item"),
    path(
        "<mbr:code>/v<int:number>/builder/preview/", views.builder_preview, name="builder_preview"
    ),
    path("<mbr:code>/v<int:number>/builder/attach/", views.builder_attach, name="builder_attach"),
    path("<mbr:code>/v<int:number>/builder/yaml/", views.builder_yaml, name="builder_yaml"),
]
