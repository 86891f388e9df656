"""``/admin/curate/``: the page and its JSON API (registered through ``hooks.register``)."""

from django.urls import path

from . import api, views

urlpatterns = [
    path("curate/", views.curate, name="phs_curate"),
    path("curate/api/tree/", api.tree, name="phs_curate_api_tree"),
    path("curate/api/files/<int:file_id>/", api.file_detail, name="phs_curate_api_file"),
    path("curate/api/files/<int:file_id>/submit/", api.submit, name="phs_curate_api_submit"),
    path("curate/api/files/<int:file_id>/approve/", api.approve, name="phs_curate_api_approve"),
    path("curate/api/files/<int:file_id>/reject/", api.reject, name="phs_curate_api_reject"),
    path("curate/api/files/<int:file_id>/cancel/", api.cancel, name="phs_curate_api_cancel"),
    path("curate/api/step/", api.step, name="phs_curate_api_step"),
    path(
        "curate/api/next-unreviewed/",
        api.next_unreviewed,
        name="phs_curate_api_next_unreviewed",
    ),
]
