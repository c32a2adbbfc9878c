"""The import pages (admins only): upload → confirm the column mapping → dry-run
preview → import (all valid rows, or all or nothing) → progress → result; the history
of imports, the rejected rows as a spreadsheet to fix, and undo.

Small files run while the admin waits; large ones on a Celery worker, with a progress
page that polls (see crm/imports/background.py). Every page of a job first marks it
failed if it was left "running" by a process that died.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from crm.errors import DomainError, add_domain_error
from crm.models import ImportJob
from crm.pagination import CappedPaginator

from . import background, base, engine, readers, rejected
from .forms import CommitForm, ImportJobFilter, MappingForm, UploadForm

PAGE_SIZE = 25
PROBLEMS_PAGE_SIZE = 50
WARNINGS_SHOWN = 100


def _require_admin(user) -> None:
    if not user.is_admin_role:
        raise PermissionDenied


def _job_for(request, pk: int) -> ImportJob:
    """The job, for admins only (others: 403; an unknown job: 404), marked failed first
    if its process died while it ran."""
    _require_admin(request.user)
    job = get_object_or_404(ImportJob.objects.visible_to(request.user).select_related("created_by", "undone_by"), pk=pk)
    background.reap(job)
    return job


# -- History --------------------------------------------------------------------------------


@login_required
@require_GET
def job_list(request):
    _require_admin(request.user)
    jobs = ImportJob.objects.visible_to(request.user).select_related("created_by").defer("report", "undo_log")
    filterset = ImportJobFilter(request.GET or None, queryset=jobs)
    page = CappedPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for job in page:
        background.reap(job)
        importer = base.get(job.kind)
        job.kind_label = importer.label if importer else job.kind
    filtered = any(request.GET.get(name) for name in filterset.form.fields)
    return render(request, "imports/list.html", {"page": page, "filterset": filterset, "filtered": filtered})


# -- Upload and mapping ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    _require_admin(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    if form.is_bound and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            job = engine.job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                file=uploaded,
                original_name=uploaded.name,
                mode=form.cleaned_data["mode"],
                destroyed=form.cleaned_data["destroyed"],
                defaults=form.defaults(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            rejected.remembered_for_fixed_file(job)
            return redirect("imports:mapping", job.pk)
    return render(request, "imports/upload.html", {"form": form, "max_bytes": readers.max_bytes()})


def _required_groups(importer: base.Importer, columns: list[str]) -> list[dict]:
    chosen = set(columns)
    return [
        {"labels": [capfirst(importer.column(name).label) for name in group], "met": bool(chosen.intersection(group))}
        for group in importer.required_columns
    ]


@login_required
@require_http_methods(["GET", "POST"])
def mapping_confirm(request, pk: int):
    """Each column's header, sample values and field; confirming starts the dry run."""
    job = _job_for(request, pk)
    if not background.startable(job, background.DRY_RUN):
        messages.info(request, _("This import can no longer be changed."))
        return redirect("imports:detail", job.pk)
    form = MappingForm(request.POST or None, job=job)
    if form.is_bound and form.is_valid():
        try:
            engine.job_set_mapping(
                actor=request.user, job=job, columns=form.columns(), remember=form.cleaned_data["remember"]
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _start(request, job, background.DRY_RUN)
    importer = engine.importer_for(job.kind)
    current = form.columns() if form.is_bound and form.is_valid() else list(job.mapping)
    # Jobs inspected before samples were kept have none.
    samples = job.samples or [[] for _header in job.headers]
    rows = list(zip([form[name] for name in form.column_names], samples, strict=True))
    context = {
        "job": job,
        "form": form,
        "rows": rows,
        "importer": importer,
        "required": _required_groups(importer, current),
        "remembered": not job.mapping_confirmed and rejected.remembered_for(job) == list(job.mapping),
    }
    return render(request, "imports/mapping.html", context)


def _start(request, job: ImportJob, action: str, mode: str | None = None):
    """Start the dry run or commit; to the progress page when it was queued, else to the
    result with a message saying how it went."""
    try:
        queued = background.start(actor=request.user, job=job, action=action, mode=mode)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("imports:detail", job.pk)
    if queued:
        return redirect("imports:progress", job.pk)
    _report(request, job)
    return redirect("imports:detail", job.pk)


def _report(request, job: ImportJob) -> None:
    if job.status == ImportJob.Status.FAILED:
        messages.error(request, job.error or _("Nothing was imported."))
    elif job.status == ImportJob.Status.DONE:
        messages.success(
            request,
            _("Imported: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(rejected)d rejected.")
            % job.counts,
        )


# -- Preview, result and the actions on a job -------------------------------------------------


@login_required
@require_GET
def job_detail(request, pk: int):
    """The dry run's preview (with the import form) or the result (with undo)."""
    job = _job_for(request, pk)
    # An interrupted run's report is the one before it: not shown.
    report = {} if (job.report or {}).get("interrupted") else job.report or {}
    rejects = Paginator(report.get("rejects") or [], PROBLEMS_PAGE_SIZE).get_page(request.GET.get("page"))
    warnings = report.get("warnings") or []
    can_commit = background.startable(job, background.COMMIT)
    changed = engine.changed_since(job) if job.status == ImportJob.Status.DONE else 0
    importer = engine.importer_for(job.kind)
    labels = {column.name: capfirst(column.label) for column in importer.columns}
    context = {
        "job": job,
        "importer": importer,
        "show_counts": bool(report.get("counts")),
        "page": rejects,
        "warnings": warnings[:WARNINGS_SHOWN],
        "warning_count": len(warnings),
        "more_warnings": max(len(warnings) - WARNINGS_SHOWN, 0),
        "truncated": report.get("truncated", False),
        "commit_form": CommitForm(initial={"mode": job.mode}) if can_commit else None,
        "can_check": background.startable(job, background.DRY_RUN),
        "active": job.status == ImportJob.Status.RUNNING or background.is_queued(job),
        "changed": changed,
        "defaults": [(labels.get(name, name), value) for name, value in (job.defaults or {}).items()],
        "mapped": [(header, labels.get(field, "")) for header, field in zip(job.headers, job.mapping, strict=False)],
    }
    return render(request, "imports/detail.html", context)


@login_required
@require_POST
def commit(request, pk: int):
    job = _job_for(request, pk)
    form = CommitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to import the valid rows or nothing unless every row is valid."))
        return redirect("imports:detail", job.pk)
    return _start(request, job, background.COMMIT, mode=form.cleaned_data["mode"])


@login_required
@require_GET
def progress(request, pk: int):
    """Rows done of rows total while the job is queued or running; polled every second.
    Once it has finished, on to its result."""
    job = _job_for(request, pk)
    info = background.progress_of(job) or {}
    if job.status != ImportJob.Status.RUNNING and not background.is_queued(job):
        url = reverse("imports:detail", args=[job.pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    total = info.get("total") or job.rows_total
    done = min(info.get("done") or 0, total)
    context = {
        "job": job,
        "queued": info.get("state") == "queued",
        "committing": info.get("action") == background.COMMIT,
        "done": done,
        "total": total,
        "percent": round(100 * done / total) if total else 0,
    }
    return render(request, "imports/_progress.html" if request.htmx else "imports/progress.html", context)


@login_required
@require_GET
def rejected_download(request, pk: int):
    """The rejected rows with a reason column, to fix and import again."""
    job = _job_for(request, pk)
    if not (job.report or {}).get("rejects") or job.report.get("interrupted"):
        raise Http404
    try:
        return rejected.download(job)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("imports:detail", job.pk)


@login_required
@require_POST
def undo(request, pk: int):
    job = _job_for(request, pk)
    try:
        engine.job_undo(actor=request.user, job=job)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The import was undone: what it created is deleted, what it changed restored."))
    return redirect("imports:detail", job.pk)
