"""Statistics shared by the A/B tests of landing pages (conversion) and of e-mails (campaigns)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ZTest:
    z: float
    p_value: float  # two-sided


def two_proportion_z_test(
    *, conversions_a: int, visitors_a: int, conversions_b: int, visitors_b: int
) -> ZTest | None:
    """Pooled two-proportion z-test of B against A; None when it cannot be computed.

    z = (p_b - p_a) / sqrt(p (1 - p) (1/n_a + 1/n_b)) with p the pooled rate, and the two-sided
    p-value erfc(|z| / √2) = 2 (1 - Φ(|z|)).
    """
    if visitors_a <= 0 or visitors_b <= 0:
        return None
    pooled = (conversions_a + conversions_b) / (visitors_a + visitors_b)
    variance = pooled * (1 - pooled) * (1 / visitors_a + 1 / visitors_b)
    if variance <= 0:
        return None  # nobody or everybody converted in both arms: nothing to compare
    z = (conversions_b / visitors_b - conversions_a / visitors_a) / math.sqrt(variance)
    return ZTest(z=z, p_value=math.erfc(abs(z) / math.sqrt(2)))
