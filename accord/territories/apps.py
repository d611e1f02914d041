from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "accord.territories"
    label = "territories"
