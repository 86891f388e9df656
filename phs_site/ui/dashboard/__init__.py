"""The dashboard: what reviewers sent back to you (``feedback``), progress, recent work,
export state and duplicates (``progress``) and the reviewers' queue (``review``),
registered in that order by ``phs_site.ui``."""
