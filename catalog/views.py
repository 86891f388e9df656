"""Small admin views of the catalog that are not plain snippet views."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from .models import FileEntry
from .services.duplicates import DuplicateError, make_primary


def make_primary_url(file: FileEntry) -> str:
    return reverse("catalog_make_primary", args=[file.pk])


@require_POST
def make_primary_view(request, file_id: int):
    """Make one copy the primary of its duplicate group (a hand-made choice)."""
    if not request.user.has_perm("catalog.change_duplicategroup"):
        raise PermissionDenied
    file = get_object_or_404(FileEntry.objects.select_related("drive"), pk=file_id)
    try:
        make_primary([file], user=request.user)
    except DuplicateError as error:
        messages.error(request, str(error))
        return redirect("wagtailsnippets_catalog_fileentry:inspect", file.pk)
    messages.success(request, f"{file.location} is now the primary copy.")
    return redirect("wagtailsnippets_catalog_duplicategroup:inspect", file.duplicate_group_id)
