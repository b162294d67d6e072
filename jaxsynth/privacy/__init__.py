"""Differential privacy: DP-SGD (per-example clipping + Gaussian noise) and accounting."""

from jaxsynth.privacy.accounting import epsilon, noise_multiplier_for
from jaxsynth.privacy.audit import AuditReport, audit_tabular, epsilon_lower_bound
from jaxsynth.privacy.clipping import clip_per_parameter, clip_to_norm, clipped_grad_sum
from jaxsynth.privacy.dpsgd import DPSGD, add_gaussian_noise
from jaxsynth.privacy.ghost import ghost_clipped_grad_sum, supports_ghost

__all__ = [
    "AuditReport",
    "DPSGD",
    "audit_tabular",
    "epsilon_lower_bound",
    "add_gaussian_noise",
    "clip_per_parameter",
    "clip_to_norm",
    "clipped_grad_sum",
    "epsilon",
    "ghost_clipped_grad_sum",
    "noise_multiplier_for",
    "supports_ghost",
]
