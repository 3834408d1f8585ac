"""TikTok connector (mocked)."""

from .mock import MockConnector
from .traits import TIKTOK


class TikTokConnector(MockConnector):
    """TikTok accounts: dance, comedy and music heavy, 19-digit ids."""

    def __init__(self, **options):
        super().__init__(TIKTOK, **options)
