from django.urls import path

from . import views

app_name = "phs_search"
urlpatterns = [
    path("", views.FindFilesView.as_view(), name="find"),
    path("save/", views.SaveSearchView.as_view(), name="save"),
    path("saved/<int:pk>/delete/", views.DeleteSavedSearchView.as_view(), name="delete_saved"),
]
