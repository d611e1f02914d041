from django.apps import AppConfig


class DataqualityConfig(AppConfig):
    name = "accord.dataquality"
    label = "dataquality"

    def ready(self) -> None:
        from accord.dataquality import checks  # noqa: F401 - registers the system checks
