from __future__ import annotations

import sys

from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from assessments import inputs

        inputs.connect()
        # A broken shipped rubric must stop start-up with a message naming the problem,
        # not surface later as a 500 in the middle of someone's survey.
        # `validate_rubric` is how an author finds what is wrong with a file being written:
        # it reports every error itself, so start-up must not stop it first.
        if len(sys.argv) > 1 and sys.argv[1] == "validate_rubric":
            return
        from assessments.rubrics import check_shipped_rubrics

        check_shipped_rubrics()
