"""The file editor (the FileEntry snippet's edit view) in the catalogue's words.

- ``ReviewCommentPanel``: above the decision, a file a reviewer sent back shows who sent
  it back, when, and their comment (what the dashboard's *Sent back to you* lists).
- ``catalogue_action_menu``: the ``construct_snippet_action_menu`` hook renaming
  Wagtail's buttons — *Save draft*, *Submit to <workflow>*, *Cancel workflow* … — to
  what they do to a catalogue decision.
"""

from django.forms import Media
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import Panel
from wagtail.snippets.action_menu import (
    CancelWorkflowMenuItem,
    RestartWorkflowMenuItem,
    SaveMenuItem,
    SubmitForModerationMenuItem,
)

from catalog.models import FileEntry, ReviewState


class ReviewCommentPanel(Panel):
    """The reviewer's comment on a file sent back (``review_state`` *rejected*)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "catalog/editor/review_comment.html"

        def is_shown(self):
            return bool(
                self.instance
                and self.instance.pk
                and self.instance.review_state == ReviewState.REJECTED
            )

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            # Wagtail's "needs changes" review points at the rejected task state.
            state = self.instance.current_workflow_state
            task_state = state.current_task_state if state else None
            reviewer = getattr(task_state, "finished_by", None)
            context.update(
                {
                    "comment": self.instance.review_comment,
                    "reviewer": (reviewer.get_full_name() or reviewer.get_username())
                    if reviewer
                    else "",
                    "when": getattr(task_state, "finished_at", None),
                }
            )
            return context

        @property
        def media(self):
            return Media(css={"all": ["catalog/curate/feedback.css"]})


class SaveDecisionMenuItem(SaveMenuItem):
    """Wagtail's save button says *Save draft*: here a save is a curator's decision."""

    template_name = "catalog/editor/save_decision.html"
    label = _("Save decision")


class SubmitForReviewMenuItem(SubmitForModerationMenuItem):
    """Wagtail says *Submit to <workflow name>* / *Resubmit to <task name>*."""

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        file = parent_context.get("instance")
        state = file.current_workflow_state if file else None
        again = state is not None and state.status == state.STATUS_NEEDS_CHANGES
        context["label"] = _("Resubmit for review") if again else _("Submit for review")
        return context


#: Wagtail's workflow buttons whose own label reads fine once renamed.
LABELS = {
    CancelWorkflowMenuItem: _("Withdraw from review"),
    RestartWorkflowMenuItem: _("Withdraw and resubmit"),
}


def catalogue_action_menu(menu_items: list, request, context: dict) -> None:
    """construct_snippet_action_menu hook: the file editor's buttons in our words."""
    if context.get("model") is not FileEntry:
        return
    for index, item in enumerate(menu_items):
        if type(item) is SaveMenuItem:
            menu_items[index] = SaveDecisionMenuItem(order=item.order)
        elif type(item) is SubmitForModerationMenuItem:
            menu_items[index] = SubmitForReviewMenuItem(order=item.order)
        elif type(item) in LABELS:
            item.label = LABELS[type(item)]
