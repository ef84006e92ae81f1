"""Integration scans: git repositories, the GitHub API and delivery exports.

The pure engine lives in `assessments.scans.engine` and imports no Django, so it also runs from
the command line; the Django side (models, Celery tasks, pages, `manage.py scan`) wraps it.
This package must not import Django either: importing the engine imports this file first.
"""
