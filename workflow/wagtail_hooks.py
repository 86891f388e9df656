"""Registers the review bulk actions (and the export admin) with Wagtail."""

from wagtail import hooks

from .bulk_actions import BULK_ACTIONS
from .export.admin import register_export_admin

for action in BULK_ACTIONS:
    hooks.register("register_bulk_action", action)
register_export_admin()
