from __future__ import annotations

from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        # A broken shipped rubric must stop start-up with a message naming the problem,
        # not surface later as a 500 in the middle of someone's survey.
        from assessments.rubrics import check_shipped_rubrics

        check_shipped_rubrics()
