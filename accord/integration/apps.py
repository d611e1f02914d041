from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "accord.integration"
    label = "integration"
    verbose_name = "Integration"
