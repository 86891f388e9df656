"""``WAGTAIL_FINISH_WORKFLOW_ACTION`` target.

Wagtail imports this while its models load, so it must import nothing at module
level; it hands over to ``workflow.services.review.finish_review``.
"""


def finish_review(workflow_state, user=None):
    from workflow.services.review import finish_review as publish_approved

    publish_approved(workflow_state, user=user)
