"""Print Opacus' RDP-accountant epsilons for a grid of DP-SGD settings (the reference values in
tests/test_privacy.py). Run in a separate environment, never the package's:

    python -m venv /tmp/opv && /tmp/opv/bin/pip install torch==2.13.0 opacus
    /tmp/opv/bin/python benchmarks/opacus_epsilon_reference.py
"""

from opacus.accountants import RDPAccountant

SETTINGS = [  # (sampling_rate, noise_multiplier, steps, delta)
    (256 / 60_000, 1.1, 14_062, 1e-5),
    (256 / 60_000, 1.1, 3_515, 1e-5),
    (0.01, 0.8, 1_000, 1e-5),
    (0.05, 2.0, 500, 1e-6),
    (1.0, 5.0, 10, 1e-5),
]

for q, sigma, steps, delta in SETTINGS:
    acc = RDPAccountant()
    acc.history = [(sigma, q, steps)]
    print(f"({q!r}, {sigma!r}, {steps!r}, {delta!r}): {acc.get_epsilon(delta=delta)!r},")
