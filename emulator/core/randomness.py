"""One seeded random source for request ids, generated keys and fault dice.

With `--seed N` every draw is reproducible for the same sequence of calls.
"""

from __future__ import annotations

import random
import threading


class RandomSource:
    def __init__(self, seed: int | None = None):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.seed = seed

    def reseed(self, seed: int | None) -> None:
        """A forked worker draws its own sequence (derived from --seed when one was given)."""
        with self._lock:
            self._rng = random.Random(seed)

    def random(self) -> float:
        with self._lock:
            return self._rng.random()

    def uniform(self, a: float, b: float) -> float:
        with self._lock:
            return self._rng.uniform(a, b)

    def lognormal(self, mu: float, sigma: float) -> float:
        with self._lock:
            return self._rng.lognormvariate(mu, sigma)

    def randint(self, a: int, b: int) -> int:
        with self._lock:
            return self._rng.randint(a, b)

    def request_id(self) -> str:
        """An uppercase UUID, the form Alibaba Cloud RequestIds take: the same string as
        `str(uuid.UUID(int=bits, version=4)).upper()`, formatted without building a UUID."""
        with self._lock:
            bits = self._rng.getrandbits(128)
        bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # variant RFC 4122
        bits = (bits & ~(0xF000 << 64)) | (4 << 76)  # version 4
        h = f"{bits:032X}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def token(self, nbytes: int = 16) -> str:
        with self._lock:
            return self._rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()
