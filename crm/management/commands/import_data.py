"""`python manage.py import_data KIND FILE`: the spreadsheet import for scripts.

Same engine, same checks and the same report as the import page: the file is stored
and recorded as an import by the given admin, the columns are mapped as the page
would guess them (or as an admin last confirmed for these headers), then the rows are
checked (--dry-run) or imported. Exits with status 1 when the file is refused, or
when nothing was (or, in a dry run, would be) imported because of rejected rows.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from crm.errors import DomainError
from crm.imports import background, base, engine
from crm.models import ImportJob, User


class Command(BaseCommand):
    help = __doc__.splitlines()[0].split(": ", 1)[1]

    def add_arguments(self, parser):
        parser.add_argument("kind", help="what the file holds: " + ", ".join(base.kinds() or ["customers"]))
        parser.add_argument("file", help="an .xlsx or .csv file (UTF-8, UTF-8 with BOM, or GBK)")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
        parser.add_argument("--all-or-nothing", action="store_true", help="import nothing unless every row is valid")
        parser.add_argument(
            "--skip-destroyed",
            action="store_true",
            help="store rows whose mobile or credit code Excel destroyed (1.38E+10) without that value, "
            "with a warning, instead of rejecting them",
        )
        parser.add_argument("--user", help="the admin the import is recorded for (default: the only admin)")
        parser.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="a value for new records where the file has none, e.g. --set industry=兽药 (repeatable)",
        )
        parser.add_argument("--progress", action="store_true", help="print rows done / rows total to stderr")

    def handle(self, *args, kind, file, dry_run, all_or_nothing, skip_destroyed, user, set, progress, **options):
        actor = self._actor(user)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        defaults = {}
        for item in set:
            field, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--set takes FIELD=VALUE, got {item!r}")
            defaults[field.strip()] = value.strip()
        try:
            with path.open("rb") as handle:
                job = engine.job_create(
                    actor=actor,
                    kind=kind,
                    file=handle,
                    original_name=path.name,
                    mode=ImportJob.Mode.ALL_OR_NOTHING if all_or_nothing else ImportJob.Mode.ALL_VALID,
                    destroyed=ImportJob.Destroyed.SKIP_FIELD if skip_destroyed else ImportJob.Destroyed.REJECT,
                    defaults=defaults,
                )
            self._describe(job)
            # Through the pages' runner: it holds the job's lock (so the pages do not take
            # the job for an interrupted one) and publishes the progress they show.
            job = background.run(
                job_id=job.pk,
                action=background.DRY_RUN if dry_run else background.COMMIT,
                progress=self._progress if progress else None,
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self._report(job, dry_run)
        nothing = job.created_count + job.updated_count + job.unchanged_count == 0
        if job.rejected_count and (job.status == ImportJob.Status.FAILED or nothing):
            sys.exit(1)

    def _actor(self, username):
        admins = User.objects.filter(is_active=True).filter(role=User.Role.ADMIN) | User.objects.filter(
            is_active=True, is_superuser=True
        )
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {username!r}.")
            if not actor.is_admin_role:
                raise CommandError(f"{username} is not an admin; only admins import.")
            return actor
        admins = list(admins.distinct()[:2])
        if len(admins) != 1:
            raise CommandError("Name the admin the import is recorded for with --user USERNAME.")
        return admins[0]

    def _progress(self, done, total):
        self.stderr.write(f"{done}/{total}")
        self.stderr.flush()

    def _describe(self, job):
        where = f"sheet “{job.sheet}”, " if job.sheet else ""
        self.stdout.write(f"Import #{job.pk}: {job.original_name} ({job.size} bytes, SHA-256 {job.sha256})")
        self.stdout.write(
            f"{job.file_type.upper()} {job.encoding}".strip() + f", {where}header in row {job.header_row}, "
            f"{job.rows_total} data rows"
        )
        self.stdout.write("Columns:")
        for header, field in zip(job.headers, job.mapping, strict=False):
            self.stdout.write(f"  {header or '(empty)'} -> {field or '(not imported)'}")

    def _report(self, job, dry_run):
        counts = job.counts
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"Rows {verb}: created {counts['created']}, updated {counts['updated']}, "
            f"unchanged {counts['unchanged']}, rejected {counts['rejected']}"
        )
        rejects = job.report.get("rejects", [])
        if rejects:
            self.stdout.write("Rejected:")
            for item in rejects:
                self.stdout.write(f"  row {item['row']}, {item['column']}, “{item['value']}”: {item['message']}")
        warnings = job.report.get("warnings", [])
        if warnings:
            self.stdout.write("Warnings:")
            for item in warnings:
                self.stdout.write(f"  row {item['row']}, {item['column']}, “{item['value']}”: {item['message']}")
        if job.report.get("truncated"):
            self.stdout.write("(The report lists the first problems only.)")
        if job.error:
            self.stdout.write(self.style.ERROR(job.error))
        else:
            self.stdout.write(f"Status: {job.get_status_display()}")
