from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import project_overview


@login_required
def home(request):
    return render(request, "analytics/home.html", {"projects": project_overview(request.user)})
