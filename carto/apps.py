from django.apps import AppConfig


class CartoConfig(AppConfig):
    name = "carto"
    verbose_name = "carto"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from carto.models import Theme
        from carto.services.themes import themes_forget

        # Only this process's copy of the themes is dropped: no row, no network (STYLE: signals).
        post_save.connect(themes_forget, sender=Theme, dispatch_uid="carto.themes_forget.save")
        post_delete.connect(themes_forget, sender=Theme, dispatch_uid="carto.themes_forget.delete")
