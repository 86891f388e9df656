"""Offline previews in the file editor: the catalogue's preview above the decision, so a
reviewer (or a curator away from the drive) sees the file they decide on."""

from django.forms import Media
from wagtail.admin.panels import Panel

from catalog.templatetags.phs_previews import previews_for


class FilePreviewPanel(Panel):
    """The file's offline preview (large image, poster, page or waveform; a placeholder's
    reason; or that none was made yet). One query."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "catalog/editor/preview.html"

        def is_shown(self):
            return bool(self.instance and self.instance.pk)

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            oshash = self.instance.oshash
            previews = previews_for([oshash]) if oshash else {}
            context.update({"file": self.instance, "previews": previews})
            return context

        @property
        def media(self):
            return Media(css={"all": ["catalog/previews.css"]})
