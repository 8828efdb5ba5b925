import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from aishang.core.testing import make_company, make_project, make_staff
from aishang.extras.import_jobs import project_import_job, run_project_import
from aishang.extras.importing import ImportRejected, RowErrors
from aishang.extras.jobs import JobFailed
from aishang.extras.models import Job

pytestmark = pytest.mark.django_db


def an_xlsx():
    from openpyxl import Workbook

    from aishang.extras.importing import workbook_bytes

    workbook = Workbook()
    workbook.active.append(["房屋编码"])
    return SimpleUploadedFile("readings.xlsx", workbook_bytes(workbook))


@pytest.fixture
def job():
    project = make_project(make_company())
    return project_import_job(kind="reading_import", title="抄表导入", project=project, uploaded_file=an_xlsx(),
                              actor=make_staff(project.company))


def test_an_upload_that_is_not_a_workbook_is_refused_at_the_file_field():
    project = make_project(make_company())
    with pytest.raises(ValidationError) as refused:
        project_import_job(kind="reading_import", title="抄表导入", project=project, actor=None,
                           uploaded_file=SimpleUploadedFile("readings.xlsx", b"not a workbook"))
    assert "file" in refused.value.message_dict and not Job.objects.exists()


def test_a_rejected_file_fails_the_job_with_its_row_errors(job):
    errors = RowErrors()
    errors.add(12, "本期读数", "本期读数 90 低于上期 100")

    def rejecting(project, file, progress):
        assert project == job.project and file.read(2) == b"PK"
        raise ImportRejected(errors)

    with pytest.raises(JobFailed):
        run_project_import(job, rejecting)
    assert job.errors == [{"row": 12, "column": "本期读数", "message": "本期读数 90 低于上期 100"}]


def test_an_import_of_a_project_deleted_meanwhile_fails_and_imports_nothing(job):
    job.params["project_id"] = 0
    with pytest.raises(JobFailed, match="项目已不存在"):
        run_project_import(job, lambda project, file, progress: pytest.fail("nothing may be imported"))


def test_the_import_page_lists_the_users_recent_imports(job):
    client = Client()
    client.force_login(job.created_by)
    page = client.get(reverse("meters:reading_import")).content.decode()
    assert "最近的导入" in page and reverse("extras:job_detail", args=[job.pk]) in page
