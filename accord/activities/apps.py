from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "accord.activities"
    label = "activities"
