from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "accord.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from accord.insights import activity_cells, cells, line_cells

        cells.connect()
        line_cells.connect()  # after the opportunity cells: it reads what they found
        activity_cells.connect()
