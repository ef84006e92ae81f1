"""List background jobs that are stuck, and send them again or mark them failed.

    python manage.py requeue_jobs            # list stuck jobs (nothing changes)
    python manage.py requeue_jobs --requeue  # send each one to the workers again
    python manage.py requeue_jobs --fail     # mark each one failed, with a message

A job is stuck when it is queued and its message was never sent or not picked up within
JOB_REQUEUE_AFTER_SECONDS, or when it is running and its worker stopped (no heartbeat for
JOB_STALE_SECONDS, or its process is gone on this host). Workers do the same recovery by
themselves when they start; this command is for an operator after an outage.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.jobs import job_fail, job_models, job_requeue_if_stuck, jobs_stuck

FAILED_BY_OPERATOR = (
    "This job was stopped by an administrator after the job system had a problem. Start it again."
)


class Command(BaseCommand):
    help = "List stuck background jobs (PDF reports, scans, event logs, e-mails); --requeue or --fail them."

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--requeue", action="store_true", help="send stuck jobs again")
        action.add_argument("--fail", action="store_true", help="mark stuck jobs failed")

    def handle(self, *args: Any, **options: Any) -> None:
        stuck = jobs_stuck()
        if not stuck:
            self.stdout.write("No stuck jobs.")
            return
        senders = job_models()
        failures = 0
        for item in stuck:
            job = item.job
            line = f"{item.kind:9} {job.pk}  {job.status:8} {item.reason}"
            if options["requeue"]:
                _model, sender = senders[item.kind]
                sent = job_requeue_if_stuck(job, sender(job.pk))
                failures += not sent
                line += "  -> sent again" if sent else "  -> NOT sent (broker unavailable?)"
            elif options["fail"]:
                job_fail(type(job), job.pk, FAILED_BY_OPERATOR)
                line += "  -> marked failed"
            self.stdout.write(line)
        self.stdout.write(f"{len(stuck)} stuck job(s).")
        if failures:
            raise CommandError(f"{failures} job(s) could not be sent: is the broker reachable?")
