"""Background indexing (Django's ``django.tasks``): big imports are indexed after commit.

With ``PHS_TASKS_BACKEND=database`` this runs in ``manage.py db_worker``; otherwise
inline, right after the import commits. See ``search.indexing.index_drive``.
"""

from django.db import transaction
from django.tasks import task


@task()
def index_drive_task(drive_id: int) -> int:
    from .indexing import index_drive_now

    with transaction.atomic():
        return index_drive_now(drive_id)
