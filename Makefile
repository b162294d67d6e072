# The two commands: `make demo` and `make test`. Each creates .venv and installs what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= runs/demo

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,demo]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/jaxsynth train --config experiments/digits_ddpm.py --workdir $(DEMO_DIR)
	$(BIN)/jaxsynth sample --workdir $(DEMO_DIR) -n 64 --seed 0 --sampler ddim --steps 50 \
		--out $(DEMO_DIR)/samples.npz --png
	$(BIN)/python examples/penguins_table.py --out $(DEMO_DIR)/table
	@echo "demo: image samples grid at $(DEMO_DIR)/samples.png, training metrics at $(DEMO_DIR)/metrics.json"
	@echo "demo: synthetic penguins at $(DEMO_DIR)/table/synthetic.csv, evaluation at $(DEMO_DIR)/table/report.html"

lint: $(STAMP)
	$(BIN)/ruff check jaxsynth tests experiments examples benchmarks tools

test: lint
	$(BIN)/python -m pytest -q -n 2 --durations=15 --doctest-modules jaxsynth tests
	XLA_FLAGS=--xla_force_host_platform_device_count=8 $(BIN)/python -m pytest -q tests/multidevice

bench: $(STAMP)
	$(BIN)/python benchmarks/digits_ddpm_speed.py

clean:
	rm -rf $(VENV) runs
