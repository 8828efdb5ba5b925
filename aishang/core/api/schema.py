from drf_spectacular.openapi import AutoSchema


class RegisterAutoSchema(AutoSchema):
    """Operations are tagged by the app that owns the model (estate, customers, users, extras)."""

    def get_tags(self):
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if model is None:
            return super().get_tags()
        return [model._meta.app_label]
