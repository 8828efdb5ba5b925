from aishang.core.forms import ScopedModelForm

from .models import Project


class ProjectForm(ScopedModelForm):
    class Meta:
        model = Project
        fields = ["code", "name", "status", "property_types", "province", "city", "district", "address",
                  "total_area", "manager_name", "service_phone", "delivered_on", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["property_types"].widget.attrs["size"] = 6

    def save(self, commit=True):
        # New projects belong to the creator's company; the company is never chosen in a form.
        if not self.instance.company_id:
            self.instance.company_id = self.user.company_id
        return super().save(commit=commit)
