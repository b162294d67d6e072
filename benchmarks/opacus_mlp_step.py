"""Opacus DP-SGD step time on the MLP 64-256-256-2 at batch 512 (PyTorch CPU), for the
side-by-side table of benchmarks/dp_step_speed.py. Runs in a separate environment:

    python -m venv /tmp/opv && /tmp/opv/bin/pip install torch==2.13.0 opacus
    /tmp/opv/bin/python benchmarks/opacus_mlp_step.py   # prints "name<TAB>seconds per step"
"""

import time

import torch
from opacus import PrivacyEngine
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

BATCH, REPEATS, N_STEPS = 512, 5, 10


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 2))


def time_it(step):
    step()
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for _ in range(N_STEPS):
            step()
        best = min(best, (time.perf_counter() - t0) / N_STEPS)
    return best


def main():
    torch.set_num_threads(2)
    x, y = torch.randn(BATCH, 64), torch.randint(0, 2, (BATCH,))
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH)

    model = mlp()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def plain():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    results = {"torch non-private": time_it(plain)}
    for mode in ("hooks", "ghost"):
        model = mlp()
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        out = PrivacyEngine().make_private(
            module=model, optimizer=opt, data_loader=loader, criterion=nn.CrossEntropyLoss(),
            noise_multiplier=1.0, max_grad_norm=1.0, grad_sample_mode=mode, poisson_sampling=False,
        )
        if len(out) == 4:
            dp_model, dp_opt, criterion, _ = out
        else:
            (dp_model, dp_opt, _), criterion = out, nn.CrossEntropyLoss()

        def dp_step(m=dp_model, o=dp_opt, c=criterion):
            o.zero_grad()
            c(m(x), y).backward()
            o.step()

        results[f"Opacus {mode}"] = time_it(dp_step)
    for name, t in results.items():
        print(f"{name}\t{t:.6f}")


if __name__ == "__main__":
    main()
