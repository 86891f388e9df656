"""Dashboard panel: the drive in hand — per drive, the approved media waiting for
``upload_padma`` (count, size, estimated time), and how many are uploaded, failed,
refused or kept out. One grouped query (``workflow.export.upload.upload_plan``)."""

from django.forms import Media
from wagtail.admin.ui.components import Component

from workflow.export.upload import upload_plan
from workflow.export.upload.plan import format_bytes, format_duration


class UploadPlanPanel(Component):
    name = "phs_upload_plan"
    order = 125
    template_name = "workflow/panels/upload_plan.html"

    @property
    def media(self):
        return Media(css={"all": ["catalog/curate/dashboard.css"]})

    def get_context_data(self, parent_context=None):
        drives = [
            plan.as_dict()
            | {
                "size": format_bytes(plan.waiting_bytes),
                "estimate": format_duration(plan.estimate_seconds),
            }
            for plan in upload_plan()
        ]
        return {"drives": drives, "waiting": sum(d["waiting"] for d in drives)}
