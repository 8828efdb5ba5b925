from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetersConfig(AppConfig):
    name = "aishang.meters"
    label = "meters"
    verbose_name = _("水电抄表")

    def ready(self):
        from aishang.billing.services import register_usage_source
        from aishang.core.generic_views import DetailTab, register_detail_tab
        from aishang.estate.models import Unit

        from .usage import metered_usage
        from .views import unit_meters_tab

        register_usage_source(metered_usage)
        # The unit's page shows its meters and shares without estate knowing meters (estate is below meters).
        register_detail_tab(Unit, DetailTab("meters", _("水电与公摊"), "meters.view_meter", "meters/_unit_meters.html",
                                            unit_meters_tab))
