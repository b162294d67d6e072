"""These tests run in their own pytest process with 8 simulated CPU devices:

    XLA_FLAGS=--xla_force_host_platform_device_count=8 pytest tests/multidevice
"""

import os
import sys

# JAX reads XLA_FLAGS when its backend starts (lazily, at the first device query).
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    ).strip()
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
