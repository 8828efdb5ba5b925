"""导入房屋及业主 pages: pick a project, download the template, upload the filled-in file."""

from django.contrib.auth.decorators import login_required, permission_required
from django.utils.translation import gettext as _

from aishang.extras.views_import import import_page, template_download

from .imports import JOB_KIND, unit_import_start, unit_import_template

IMPORT_PERMISSION = "estate.import_unit"


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def unit_import(request):
    return import_page(request, start=unit_import_start, job_kind=JOB_KIND, template_name="customers/unit_import.html",
                       title=_("导入房屋及业主"))


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def unit_import_template_download(request):
    return template_download(request, template=unit_import_template, filename=_("房屋及业主导入模板"),
                             back="customers:unit_import")
