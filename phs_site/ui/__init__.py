"""The user interface: the Wagtail admin pages this site adds, on top of every app.

The layers read in one direction (docs/architecture.md, import-linter contracts in
pyproject.toml): ``catalog`` → ``search`` → ``workflow`` → ``phs_site.ui``. This
package holds what composes them for people — Curate, the dashboard, the catalog's
snippet viewsets and file editor — and registers it all in ``wagtail_hooks``.
"""
