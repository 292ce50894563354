"""Chinchilla-type loss at a given (effective) training compute.

L(N, D) = E + A / N^alpha + B / D^beta with C = 6 N D (Hoffmann et al. 2022). At fixed C the
loss-minimising split is N* = G (C/6)^(beta/(alpha+beta)), D* = (C/6)^(alpha/(alpha+beta)) / G
with G = (alpha A / (beta B))^(1/(alpha+beta)), so the reducible loss falls as
C^(-alpha beta / (alpha + beta)).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import SimsearchError


_LARGEST = 1.7976931348623157e308  # an int beyond it has no float (TOML allows any digits)


@dataclass(frozen=True)
class ChinchillaLoss:
    """Loss law constants; defaults are Hoffmann et al. (2022).

    ``training_flop`` is the physical compute of the training run the loss is evaluated for; an
    algorithmic multiplier M makes it worth ``training_flop * M`` effective FLOP.
    """

    E: float = 1.69
    A: float = 406.4
    B: float = 410.7
    alpha: float = 0.34
    beta: float = 0.28
    training_flop: float = 1e24

    def __post_init__(self):
        for name, value in asdict(self).items():
            finite = (isinstance(value, (int, float)) and not isinstance(value, bool)
                      and abs(value) <= _LARGEST and value == value)
            if not (finite and (value >= 0 if name == "E" else value > 0)):
                bound = ">= 0" if name == "E" else "> 0"
                raise SimsearchError(f"loss.{name}: must be a finite number {bound} "
                                     f"(got {str(value)[:40]!r})")

    @property
    def compute_exponent(self) -> float:
        """Exponent of the compute-optimal reducible loss in C."""
        return self.alpha * self.beta / (self.alpha + self.beta)

    def optimal_loss(self, flop) -> np.ndarray:
        """Compute-optimal loss at ``flop`` (array-like, > 0)."""
        flop = np.asarray(flop, dtype=float)
        total = self.alpha + self.beta
        g = (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / total)
        params = g * (flop / 6.0) ** (self.beta / total)
        tokens = (flop / 6.0) ** (self.alpha / total) / g
        return self.E + self.A * params ** -self.alpha + self.B * tokens ** -self.beta

    def at_log_multiplier(self, log_multiplier) -> np.ndarray:
        """Loss of the ``training_flop`` run made ``exp(log_multiplier)`` times more efficient."""
        return self.optimal_loss(self.training_flop * np.exp(np.asarray(log_multiplier, float)))
