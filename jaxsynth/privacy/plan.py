"""From a config's ``privacy`` section to the DP-SGD settings and a privacy ledger.

``config.privacy`` fields: ``epsilon`` (target budget, 0 = none), ``noise_multiplier`` (0 =
calibrate it from ``epsilon``), ``delta``, ``l2_clip_norm``, ``accountant`` (``"rdp"`` or
``"pld"``), ``microbatch_size`` (0 = whole batch), ``fast_path`` (ghost norms where the model
allows, default true), ``per_layer`` (clip each parameter array to ``l2_clip_norm /
sqrt(arrays)``, default false). Training is private when ``epsilon`` or
``noise_multiplier`` is positive. ``train.batch_size`` is then the *expected* batch size: each
record joins a step's batch with probability ``q = batch_size / num_records``.

The ledger is a small JSON dict (settings, steps taken, epsilon so far) stored in every
checkpoint, so a resumed run continues the same accounting with the same noise.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from jaxsynth.privacy.accounting import ACCOUNTANTS, epsilon, noise_multiplier_for
from jaxsynth.privacy.dpsgd import DPSGD

FIELDS = ("epsilon", "noise_multiplier", "delta", "l2_clip_norm", "accountant", "microbatch_size",
          "fast_path", "per_layer")


def is_private(section: Any) -> bool:
    return section is not None and (
        float(section.get("epsilon", 0.0)) > 0 or float(section.get("noise_multiplier", 0.0)) > 0
    )


@dataclasses.dataclass(frozen=True)
class PrivacyPlan:
    dpsgd: DPSGD
    sampling_rate: float
    delta: float
    accountant: str
    target_epsilon: float | None
    max_steps: int | None  # the most steps the budget allows (None: no budget)

    def ledger(self, steps: int) -> dict[str, Any]:
        return {
            "noise_multiplier": self.dpsgd.noise_multiplier,
            "l2_clip_norm": self.dpsgd.l2_clip_norm,
            "sampling_rate": self.sampling_rate,
            "delta": self.delta,
            "accountant": self.accountant,
            "target_epsilon": self.target_epsilon,
            "steps": int(steps),
            "epsilon": self.epsilon(steps),
        }

    def epsilon(self, steps: int) -> float:
        return epsilon(noise_multiplier=self.dpsgd.noise_multiplier,
                       sampling_rate=self.sampling_rate, steps=int(steps), delta=self.delta,
                       accountant=self.accountant)


def _max_steps(plan_eps, target: float, upper: int) -> int:
    """Largest ``s <= upper`` with ``epsilon(s) <= target`` (epsilon grows with ``s``)."""
    if plan_eps(upper) <= target:
        return upper
    lo, hi = 0, upper  # eps(lo) <= target < eps(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if plan_eps(mid) <= target else (lo, mid)
    return lo


def make_plan(section: Any, *, num_records: int, expected_batch_size: int, steps: int,
              previous: dict[str, Any] | None = None) -> PrivacyPlan:
    """Build the plan; ``previous`` is the ledger of the checkpoint being resumed, whose noise
    multiplier and sampling rate are kept so the accounting stays one mechanism."""
    unknown = sorted(set(section.keys()) - set(FIELDS))
    if unknown:
        raise ValueError(f"privacy has no field(s) {unknown}; known: {list(FIELDS)}")
    delta = float(section.get("delta", 0.0))
    if not 0 < delta < 1:
        raise ValueError(f"privacy.delta must be in (0, 1), got {delta}; a common choice is "
                         f"below 1/num_records = {1 / num_records:.2g}")
    accountant = section.get("accountant", "rdp")
    if accountant not in ACCOUNTANTS:
        raise ValueError(f"privacy.accountant={accountant!r}; choose one of {ACCOUNTANTS}")
    if expected_batch_size > num_records:
        raise ValueError(f"train.batch_size={expected_batch_size} exceeds the {num_records} "
                         "records; DP-SGD samples each record with rate batch_size/records")
    q = expected_batch_size / num_records
    target = float(section.get("epsilon", 0.0)) or None
    sigma = float(section.get("noise_multiplier", 0.0))
    if previous is not None:
        if abs(previous["sampling_rate"] - q) > 1e-12:
            raise ValueError(
                f"the checkpoint was trained privately with sampling rate "
                f"{previous['sampling_rate']:.6g}, but this config gives {q:.6g} "
                "(train.batch_size / records); keep the batch size and data to resume"
            )
        sigma = float(previous["noise_multiplier"])
    elif sigma <= 0:
        sigma = noise_multiplier_for(target_epsilon=target, delta=delta, sampling_rate=q,
                                     steps=max(int(steps), 1), accountant=accountant)
    dpsgd = DPSGD(
        l2_clip_norm=float(section.get("l2_clip_norm", 1.0)), noise_multiplier=sigma,
        expected_batch_size=float(expected_batch_size),
        microbatch_size=int(section.get("microbatch_size", 0)) or None,
        fast_path=bool(section.get("fast_path", True)),
        per_layer=bool(section.get("per_layer", False)),
    )
    plan = PrivacyPlan(dpsgd, q, delta, accountant, target, None)
    if target is not None:
        max_steps = _max_steps(plan.epsilon, target, max(int(steps), 1))
        plan = dataclasses.replace(plan, max_steps=max_steps)
    return plan


def describe(plan: PrivacyPlan, steps: int) -> str:
    eps = plan.epsilon(steps)
    eps_txt = "inf" if math.isinf(eps) else f"{eps:.3g}"
    return (f"DP-SGD: noise_multiplier={plan.dpsgd.noise_multiplier:.4g}, "
            f"l2_clip_norm={plan.dpsgd.l2_clip_norm:g}, sampling_rate={plan.sampling_rate:.4g}, "
            f"epsilon={eps_txt} at delta={plan.delta:g} after {steps} steps ({plan.accountant})")
