"""Find files in the Wagtail admin: one box, facets with live counts, sorting, export,
*select all N matching* for the bulk actions, and saved searches.

Thin views: parsing and reading happen in ``search.finder``; saved searches are one
model. Registered in ``wagtail_hooks`` (which wraps them in Wagtail's admin login).
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from django_filters import MultipleChoiceFilter
from wagtail.admin.views.bulk_action.registry import bulk_action_registry

from catalog.filters import FileEntryFilterSet
from catalog.models import FileEntry
from catalog.templatetags.phs_previews import previews_for, thumbnail_html
from phs_site.spreadsheets import FormulaSafeExportMixin

from .finder import (
    EXACT_LIMIT,
    FACETS,
    PER_PAGE,
    SORTS,
    Search,
    facet_filter,
    find,
    matching_files,
    ordered,
)
from .models import SavedSearch

VIEW_PERMISSION = "catalog.view_fileentry"
SNIPPET_LISTING = "/admin/snippets/catalog/fileentry/"
BULK_URL = "/admin/bulk/catalog/fileentry/{action}/"
CURATE_URL = "/admin/curate/?file={id}"
#: Bulk actions offered for "select all N matching" (curator actions). They are found in
#: Wagtail's registry, where the review layer registers them: search never imports it.
SELECT_ALL_ACTIONS = ("set_status", "set_project_group", "submit_for_review")


class SaveSearchForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name this search"))


def _require_view(request):
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied


def listing_query_for(search: Search) -> str | None:
    """The file listing's query string that shows exactly this search's files, or None
    when a facet has no equivalent there (several values where the listing takes one,
    "(none)" or "nothing to review"). The keys and values are the same on both pages
    (``catalog.file_filters``); only a year becomes the listing's date range."""
    params = [("q", search.text)] if search.text.strip() else []
    listing = FileEntryFilterSet.base_filters
    for key, values in search.facets.items():
        if key == "year":
            if len(values) != 1 or not values[0].isdigit():
                return None
            params += [("date_from", f"{values[0]}-01-01"), ("date_to", f"{values[0]}-12-31")]
            continue
        if key not in listing or "" in values or "none" in values:
            return None
        # A value Find files ignores would void the listing's whole field: more files.
        if any(facet_filter(key, [value]) is None for value in values):
            return None
        if len(values) > 1 and not isinstance(listing[key], MultipleChoiceFilter):
            return None
        params += [(key, value) for value in values]
    return urlencode(params)


class FindFilesView(FormulaSafeExportMixin, TemplateView):
    template_name = "phs_search/find.html"
    export_filename = "files"
    list_export = [
        "drive.name",
        "path",
        "filename",
        "oshash",
        "size",
        "mime_type",
        "category",
        "status",
        "review_state",
        "title",
        "project_group.name",
        "camera",
        "date",
        "padma_id",
    ]
    export_headings = {"drive.name": "Drive", "project_group.name": "Project group"}

    def dispatch(self, request, *args, **kwargs):
        _require_view(request)
        return super().dispatch(request, *args, **kwargs)

    def to_row_dict(self, item):
        row = {field: getattr(item, field, None) for field in self.list_export}
        row["drive.name"] = item.drive.name
        row["project_group.name"] = item.project_group.name if item.project_group_id else ""
        return row

    def get(self, request, *args, **kwargs):
        search = Search.from_params(request.GET)
        if self.is_export:
            files = ordered(matching_files(search), search).select_related("drive", "project_group")
            return self.as_spreadsheet(files.iterator(chunk_size=2000), request.GET["export"])
        return super().get(request, search=search, **kwargs)

    def get_heading(self, queryset, field):
        return self.export_headings.get(field) or super().get_heading(FileEntry.objects, field)

    def get_context_data(self, search: Search, **kwargs):
        results = find(search)
        for message in results.messages:
            messages.warning(self.request, message)
        listing_query = listing_query_for(search)
        here = reverse("phs_search:find") + ("?" + search.url_query() if search.params() else "")
        previews = previews_for(results.files)  # the page's thumbnails: one query
        select_all = None
        if results.total and not search.is_empty and listing_query is not None:
            select_all = [
                (
                    action.display_name,
                    BULK_URL.format(action=action.action_type)
                    + "?"
                    + urlencode({"id": "all", "next": f"{SNIPPET_LISTING}?{listing_query}"}),
                )
                for action in _select_all_actions(self.request.user)
            ]
        return {
            **super().get_context_data(**kwargs),
            "header_title": _("Find files"),
            "search": search,
            "results": results,
            "rows": [
                (
                    file,
                    reverse("wagtailsnippets_catalog_fileentry:edit", args=[file.pk]),
                    thumbnail_html(previews, file.oshash),
                )
                for file in results.files
            ],
            "curate_url": CURATE_URL,
            "facets": FACETS,
            "exact_limit": EXACT_LIMIT,
            "sorts": [
                (key, label, search.url_query(sort=key, p=None)) for key, label in SORTS.items()
            ],
            "page_first": (search.page - 1) * PER_PAGE + 1,
            "page_last": (search.page - 1) * PER_PAGE + len(results.files),
            "previous_query": search.url_query(p=search.page - 1) if search.page > 1 else None,
            "next_query": search.url_query(p=search.page + 1)
            if search.page < results.pages
            else None,
            "select_all": select_all,
            "select_all_unavailable": bool(results.total and not search.is_empty)
            and listing_query is None,
            "listing_url": f"{SNIPPET_LISTING}?{listing_query}" if listing_query else None,
            "csv_url": self.get_export_url("csv"),
            "xlsx_url": self.get_export_url("xlsx"),
            "save_form": SaveSearchForm(),
            "saved_searches": saved_searches_for(self.request),
            "here": here,
        }


class SaveSearchView(View):
    def post(self, request):
        _require_view(request)
        form = SaveSearchForm(request.POST)
        search = Search.from_params(request.GET)
        query_string = search.url_query()
        target = reverse("phs_search:find") + (f"?{query_string}" if query_string else "")
        if not form.is_valid():
            messages.error(request, _("Give the search a name (up to 100 characters)."))
            return redirect(target)
        name = form.cleaned_data["name"].strip()
        try:
            with transaction.atomic():
                SavedSearch.objects.create(user=request.user, name=name, query_string=query_string)
        except IntegrityError:
            SavedSearch.objects.filter(user=request.user, name=name).update(
                query_string=query_string
            )
        messages.success(request, _("Saved “%(name)s”.") % {"name": name})
        return redirect(target)


class DeleteSavedSearchView(View):
    def post(self, request, pk):
        _require_view(request)
        saved = get_object_or_404(SavedSearch, pk=pk, user=request.user)
        saved.delete()
        messages.success(request, _("Deleted “%(name)s”.") % {"name": saved.name})
        return redirect("phs_search:find")


def saved_searches_for(request) -> list[SavedSearch]:
    """The user's saved searches, read once per request (the menu and the page share it)."""
    if not hasattr(request, "_phs_saved_searches"):
        user = request.user
        request._phs_saved_searches = (
            list(SavedSearch.objects.filter(user=user).only("pk", "name", "query_string"))
            if user.is_authenticated
            else []
        )
    return request._phs_saved_searches


def saved_search_url(saved: SavedSearch) -> str:
    url = reverse("phs_search:find")
    return f"{url}?{saved.query_string}" if saved.query_string else url


def _select_all_actions(user) -> list:
    """The bulk actions *select all N matching* offers ``user``: those that can replay a
    search, and only what this person may use (each action's ``is_shown_to``, which the
    listing's footer asks too)."""
    registered = bulk_action_registry.get_bulk_actions_for_model("catalog", "fileentry")
    chosen = [
        action
        for action in registered
        if action.action_type in SELECT_ALL_ACTIONS
        and getattr(action, "is_shown_to", lambda _user: True)(user)
    ]
    return sorted(chosen, key=lambda action: SELECT_ALL_ACTIONS.index(action.action_type))
