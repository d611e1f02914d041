from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "accord.insights"
    label = "insights"
    verbose_name = "Insights"
