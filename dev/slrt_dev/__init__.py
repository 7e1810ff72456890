"""SLRT's development-only distribution (``dev/pyproject.toml``, ``slrt-devtools``).

Installed by ``make install`` next to the project, never into the production wheel or image:

- ``slrt_dev.stack`` — the local stack behind ``make up`` (``slrt-stack``);
- ``slrt_dev.issuer`` — the development token issuer (``slrt-dev token``);
- ``slrt_dev.demo`` — the demo district and its working week (``slrt-demo``);
- ``slrt_dev.synthetic`` — the synthetic DT-PPFM extract (``slrt-registry-generate``);
- ``slrt_dev.standins`` — loopback stand-ins for the outside world;
- ``slrt_dev.sandbox`` — the system on free ports in a temporary folder, for tests and
  benchmarks.

It imports ``slrt`` and ``services``; they never import it.
"""
