from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "accord.sales"
    label = "sales"
