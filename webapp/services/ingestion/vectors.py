"""How interest weights are stored: a profile's whole vector, and a snapshot's weights sparse.

A profile row keeps every weight (taxonomy order, little-endian float64), so that all vectors
load at once into a matrix. A snapshot keeps only the non-zero weights: a profile has about 14
of the 32 categories, and its history holds one snapshot a sync. Both hold the float64 values
the sync computed, so a snapshot's weights equal its profile's vector at that time exactly.
"""

from array import array

import numpy as np

from .taxonomy import CATEGORIES

WIDTH = len(CATEGORIES)


def pack_vector(interest: list[float]) -> bytes:
    """Pack weights as little-endian float64 in taxonomy order."""
    data = array("d", interest)
    if data.itemsize != 8:  # pragma: no cover - every supported platform has 8-byte doubles
        raise RuntimeError("float64 arrays are required")
    return data.tobytes()


def unpack_vector(blob: bytes) -> list[float]:
    """Unpack a stored vector; a shorter one (older, smaller taxonomy) is padded with zeros."""
    data = array("d")
    data.frombytes(blob)
    values = data.tolist()
    return values + [0.0] * (WIDTH - len(values))


def pack_weights(interest) -> bytes:
    """A snapshot's weights: the taxonomy positions of the non-zero ones (a byte each), then
    those weights as little-endian float64, 9 bytes a category instead of 8 for every one."""
    values = np.asarray(interest, dtype="<f8")
    if len(values) > 256:  # pragma: no cover - a position is one byte
        raise ValueError(f"{len(values)} categories: a snapshot stores at most 256")
    (positions,) = np.nonzero(values)
    return positions.astype(np.uint8).tobytes() + values[positions].tobytes()


def unpack_weights(blob: bytes) -> np.ndarray:
    """A snapshot's weights as a float64 array in taxonomy order (zeros where none is kept)."""
    count, rest = divmod(len(blob), 9)
    if rest:
        raise ValueError(f"snapshot weights of {len(blob)} bytes: not 9 bytes a category")
    weights = np.zeros(WIDTH)
    positions = np.frombuffer(blob, dtype=np.uint8, count=count)
    weights[positions] = np.frombuffer(blob, dtype="<f8", offset=count)
    return weights
