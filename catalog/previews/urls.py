from django.urls import re_path

from . import views

app_name = "phs_previews"
urlpatterns = [
    re_path(r"^(?P<oshash>[^/]+)/(?P<kind>[a-z]+)/$", views.preview_view, name="show"),
]
