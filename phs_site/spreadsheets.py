"""Spreadsheet exports that a spreadsheet program cannot run as formulas.

Filenames, paths and cameras come from the drives, so a cell can read
``=HYPERLINK("http://evil.example","x")`` or ``=cmd|' -C calc'!A0``. Excel and
LibreOffice run a CSV cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or
carriage return before one) as a formula. Following OWASP's advice on CSV injection,
such a cell gets a leading ``'``, which the programs show as text and hide from the
cell's value. XLSX needs nothing: a string cell there is text (Wagtail's mixin also
turns what openpyxl takes for a formula back into a string), so it keeps the value as is.

Every CSV export of the site goes through :class:`FormulaSafeExportMixin`: Find files,
the file listing, and Wagtail's own reports (``formula_safe_view``, see phs_site.urls).
"""

from wagtail.admin.views.mixins import SpreadsheetExportMixin

#: What a spreadsheet program reads as the start of a formula (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """The CSV cell for ``value``: a text starting like a formula behind a ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class FormulaSafeExportMixin(SpreadsheetExportMixin):
    """Wagtail's CSV/XLSX export with every CSV cell passed through ``formula_safe``."""

    def preprocess_field_value(self, field, value, export_format):
        value = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV:
            return formula_safe(value)
        return value


def formula_safe_view(view_class: type) -> type:
    """``view_class`` with the formula-safe CSV export (for views defined by Wagtail)."""
    return type(f"FormulaSafe{view_class.__name__}", (FormulaSafeExportMixin, view_class), {})
