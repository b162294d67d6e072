"""Shared test set-up: a session-wide persistent XLA cache (identical programs built by different
tests compile once) and the tiny smoke config every training test uses."""

import os
import sys

import pytest

# The tests are bound by XLA compile time, not run time: compile with the backend's cheap
# settings (about 40% less wall time for the suite on 2 cores). Numerics are unchanged in
# kind; the library, demo and benchmarks compile at full optimisation.
_FAST = "--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true"
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _FAST).strip()

collect_ignore = ["multidevice"]  # run in their own process with 8 simulated devices (Makefile)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))


@pytest.fixture(scope="session", autouse=True)
def compilation_cache(tmp_path_factory):
    import jax  # imported late so tests/multidevice can still set XLA_FLAGS first

    # Under pytest-xdist (make test runs two workers) every worker shares one cache directory.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cache = shared / "xla_cache"
    cache.mkdir(exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    yield
