"""Peer side of tabular_vs_sdv.py: fit SDV's CTGAN or TVAE (the `ctgan` package, the engine
SDV's synthesizers wrap) and sample. Runs in a separate environment with torch (CPU) and ctgan:

    python -m venv /tmp/sdvenv && /tmp/sdvenv/bin/pip install torch==2.13.0 && \
        /tmp/sdvenv/bin/pip install ctgan

Usage: sdv_tabular_fit.py MODEL TRAIN.csv DISCRETE_JSON EPOCHS BATCH N_SAMPLES OUT.csv
Prints one JSON line: {"fit_seconds": ..., "sample_seconds": ...}.
"""

import json
import sys
import time

import pandas as pd
import torch
from ctgan import CTGAN, TVAE

model, train_csv, discrete_json, epochs, batch, n, out = sys.argv[1:8]
torch.manual_seed(0)
df = pd.read_csv(train_csv)
discrete = json.loads(discrete_json)
for c in discrete:
    df[c] = df[c].astype(str)
cls = {"ctgan": CTGAN, "tvae": TVAE}[model]
synth = cls(epochs=int(epochs), batch_size=int(batch))
start = time.perf_counter()
synth.fit(df, discrete_columns=discrete)
fit_seconds = time.perf_counter() - start
start = time.perf_counter()
rows = synth.sample(int(n))
sample_seconds = time.perf_counter() - start
rows.to_csv(out, index=False)
print(json.dumps({"fit_seconds": fit_seconds, "sample_seconds": sample_seconds,
                  "threads": torch.get_num_threads()}))
