from django.apps import AppConfig


class DataqualityConfig(AppConfig):
    name = "accord.dataquality"
    label = "dataquality"
