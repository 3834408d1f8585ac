"""X connector (mocked)."""

from .mock import MockConnector
from .traits import X


class XConnector(MockConnector):
    """X accounts: news, politics, technology and finance heavy."""

    def __init__(self, **options):
        super().__init__(X, **options)
