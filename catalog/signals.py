"""What the catalog tells the layers above it, without knowing who listens.

The catalog is the lowest layer (docs/architecture.md): it never imports search or
workflow. Where they must follow a catalog write, they subscribe here in their app's
``ready()``. Receivers run inside the writer's transaction.
"""

from django.dispatch import Signal

#: An import created or updated files of a drive (keyword argument ``drive_id``).
#: search indexes the drive's new and changed files (``search.signal_handlers``).
drive_files_changed = Signal()
