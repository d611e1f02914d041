from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "accord.customers"
    label = "customers"
