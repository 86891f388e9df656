"""The three roles of the archive, as Django groups with their catalog permissions.

Created by migration (``0002_roles``) and extended by the workflow app. Kept in one
table so the migration, the demo and the docs agree.
"""

CURATORS = "Curators"
REVIEWERS = "Reviewers"
OPERATORS = "Operators"

#: group name -> {model name: [actions]} for the ``catalog`` app.
CATALOG_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    CURATORS: {
        "fileentry": ["view", "change"],
        "drive": ["view"],
        "folder": ["view"],
        "projectgroup": ["view", "add", "change"],
        "duplicategroup": ["view"],
    },
    REVIEWERS: {
        "fileentry": ["view", "change"],
        "drive": ["view"],
        "folder": ["view"],
        "projectgroup": ["view"],
        "duplicategroup": ["view", "change"],
    },
    OPERATORS: {
        "fileentry": ["view", "add", "change", "delete"],
        "drive": ["view", "add", "change", "delete"],
        "folder": ["view"],
        "projectgroup": ["view", "add", "change", "delete"],
        "duplicategroup": ["view", "add", "change", "delete"],
    },
}
