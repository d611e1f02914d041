from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "accord.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from accord.insights import activity_cells, cells

        cells.connect()
        activity_cells.connect()
