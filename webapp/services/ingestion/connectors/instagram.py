"""Instagram connector (mocked)."""

from .mock import MockConnector
from .traits import INSTAGRAM


class InstagramConnector(MockConnector):
    """Instagram accounts: fashion, beauty, travel and photography heavy."""

    def __init__(self, **options):
        super().__init__(INSTAGRAM, **options)
