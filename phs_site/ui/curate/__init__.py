"""Curate: the drive tree, local-mount previews and keyboard review in the Wagtail admin.

``hooks.register()`` adds the menu item, the admin URLs (the page and its JSON API under
``/admin/curate/``) and the dashboard panels. Reads are in ``selectors``; every write
goes through ``workflow.services.review``.
"""
