"""Privacy accounting for DP-SGD with Poisson sampling, through Google's ``dp_accounting``.

The mechanism accounted is ``steps`` compositions of the Poisson-subsampled (rate ``q``) Gaussian
mechanism with noise multiplier ``sigma``, under add-or-remove-one-record adjacency.
"""

from __future__ import annotations

import contextlib

import dp_accounting

ACCOUNTANTS = ("rdp", "pld")


def _event(noise_multiplier: float, sampling_rate: float, steps: int) -> dp_accounting.DpEvent:
    return dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(
            sampling_rate, dp_accounting.GaussianDpEvent(noise_multiplier)
        ),
        steps,
    )


def _accountant(name: str) -> dp_accounting.PrivacyAccountant:
    if name == "rdp":
        return dp_accounting.rdp.RdpAccountant()
    if name == "pld":
        return dp_accounting.pld.PLDAccountant()
    raise ValueError(f"accountant={name!r}; choose one of {ACCOUNTANTS}")


@contextlib.contextmanager
def _quiet():
    """dp_accounting logs a warning per fractional RDP order it drops; those are expected
    (the bound stays valid) and would bury a progress bar, so hide warnings while it runs."""
    from absl import logging
    old = logging.get_verbosity()
    logging.set_verbosity(logging.ERROR)
    try:
        yield
    finally:
        logging.set_verbosity(old)


def _check(sampling_rate: float, steps: int, delta: float) -> None:
    if not 0 < sampling_rate <= 1:
        raise ValueError(f"sampling_rate must be in (0, 1], got {sampling_rate}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")


def epsilon(*, noise_multiplier: float, sampling_rate: float, steps: int, delta: float,
            accountant: str = "rdp") -> float:
    """The ``epsilon`` of ``(epsilon, delta)``-DP after ``steps`` DP-SGD steps.

    >>> round(epsilon(noise_multiplier=1.0, sampling_rate=0.01, steps=0, delta=1e-5), 6)
    0.0
    """
    _check(sampling_rate, steps, delta)
    if steps == 0:
        return 0.0
    if noise_multiplier <= 0:
        return float("inf")
    acc = _accountant(accountant)
    with _quiet():
        acc.compose(_event(noise_multiplier, sampling_rate, steps))
        return float(acc.get_epsilon(delta))


def noise_multiplier_for(*, target_epsilon: float, delta: float, sampling_rate: float, steps: int,
                         accountant: str = "rdp") -> float:
    """The smallest noise multiplier whose ``epsilon`` after ``steps`` is at most the target."""
    _check(sampling_rate, steps, delta)
    if not target_epsilon > 0:
        raise ValueError(f"target_epsilon must be > 0, got {target_epsilon}")
    with _quiet():
        return float(
            dp_accounting.calibrate_dp_mechanism(
                lambda: _accountant(accountant),
                lambda sigma: _event(sigma, sampling_rate, steps),
                target_epsilon,
                delta,
            )
        )
