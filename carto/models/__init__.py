from carto.models.actors import Actor
from carto.models.pins import Pin, PinPhoto, Support, WriteCounter
from carto.models.territories import Territory
from carto.models.themes import Theme

__all__ = ["Actor", "Pin", "PinPhoto", "Support", "Territory", "Theme", "WriteCounter"]
