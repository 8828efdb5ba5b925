"""What every import of a project's spreadsheet run as a background job shares: recording the upload as a job, and
running it so that a rejected file fails the job with its errors by row and column."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aishang.estate.models import Project

from .importing import MAX_ROWS, ImportRejected, check_sheet_extent, open_workbook
from .jobs import JobFailed, JobProgress
from .models import Job


def project_import_job(*, kind, title, project, uploaded_file, actor):
    """Check the upload is a readable xlsx of a size an import takes and record it as the project's import job (not
    started yet)."""
    try:
        open_workbook(uploaded_file).close()
        check_sheet_extent(uploaded_file, max_rows=MAX_ROWS)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    name = getattr(uploaded_file, "name", "") or "import.xlsx"
    return Job.objects.create(kind=kind, title=title, company_id=project.company_id, project=project,
                              created_by=actor, input_file=uploaded_file,
                              params={"project_id": project.pk, "file_name": name})


def run_project_import(job, import_file):
    """Run an import job: ``import_file(project, file, progress)`` checks and saves the uploaded file and returns its
    result; a file it rejects, or a project gone meanwhile, fails the job and saves nothing."""
    project = Project.objects.select_related("company").filter(pk=job.params.get("project_id")).first()
    if project is None:
        job.message = _("项目已不存在，未导入任何数据")
        raise JobFailed(job.message)
    progress = JobProgress(job)
    try:
        with job.input_file.open("rb") as file:
            result = import_file(project, file, progress)
    except ImportRejected as exc:
        job.errors = exc.errors.as_list()
        job.message = exc.errors.summary()
        raise JobFailed(job.message) from None
    except ValidationError as exc:
        job.errors = [{"row": None, "column": "", "message": exc.messages[0]}]
        job.message = _("%(error)s，未导入任何数据") % {"error": exc.messages[0]}
        raise JobFailed(job.message) from None
    finally:
        progress.close()
    job.done = job.total
    return result
