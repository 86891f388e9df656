"""The bulk-action buttons under a listing, only those this person may use.

Wagtail's ``bulk_action_choices`` lists every action registered for the model and lets
each refuse afterwards: curators were offered *Delete* on files and duplicate groups
(which the admin never deletes, ``viewsets.ADMIN_NEVER``) and *Approve*/*Reject*, only
to be turned away. ``phs_site/ui/templates/wagtailadmin/bulk_actions/footer.html`` calls
this tag instead; the buttons are built the same way (four, then *More*).
"""

from django import template
from django.apps import apps
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.bulk_action.registry import bulk_action_registry
from wagtail.admin.widgets.button import Button, ButtonWithDropdown, ListingButton
from wagtail.permissions import policy_registry
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction

register = template.Library()

#: Buttons shown in the footer itself; the rest go under *More*.
SHOWN = 4


def shown_to(action, user, model) -> bool:
    """Whether ``user`` is offered ``action`` (a bulk action class) on ``model``'s listing.

    An action says so itself with ``is_shown_to(user)`` (the catalog's and the review's
    do); a snippet *Delete* asks the model's permission policy, which for files and
    duplicate groups refuses everyone.
    """
    own = getattr(action, "is_shown_to", None)
    if own is not None:
        return own(user)
    if issubclass(action, DeleteBulkAction):
        policy = policy_registry.get_by_type(model)
        return policy is None or policy.user_has_permission(user, "delete")
    return True


def actions_for(user, app_label: str, model_name: str) -> list:
    """The bulk actions ``user`` is offered on the model's listing, in Wagtail's order."""
    model = apps.get_model(app_label, model_name)
    actions = bulk_action_registry.get_bulk_actions_for_model(app_label, model_name)
    return sorted(
        (action for action in actions if shown_to(action, user, model)),
        key=lambda action: action.action_priority,
    )


@register.inclusion_tag("wagtailadmin/shared/buttons.html", takes_context=True)
def phs_bulk_action_choices(context, app_label, model_name):
    actions = actions_for(context["request"].user, app_label, model_name)

    def url(action):
        return reverse("wagtail_bulk_action", args=[app_label, model_name, action.action_type])

    buttons = [
        ListingButton(
            action.display_name,
            url(action),
            attrs={"aria-label": action.aria_label, "data-bulk-action-button": ""},
            priority=action.action_priority,
            classname=" ".join(action.classes | {"bulk-action-btn"}),
        )
        for action in actions[:SHOWN]
    ]
    if actions[SHOWN:]:
        buttons.append(
            ButtonWithDropdown(
                label=_("More"),
                attrs={"title": _("More bulk actions")},
                classname="button button-secondary button-small",
                buttons=[
                    Button(
                        label=action.display_name,
                        url=url(action),
                        attrs={"aria-label": action.aria_label, "data-bulk-action-button": ""},
                        priority=action.action_priority,
                    )
                    for action in actions[SHOWN:]
                ],
            )
        )
    return {"buttons": buttons}
