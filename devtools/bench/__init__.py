"""Benchmarks, one module per area, run as ``yuqing bench <area>``; each prints one JSON line.

A module here has ``register(subparsers)`` like :mod:`yuqing.commands` modules. Benchmarks measure;
they are never timed tests. Real data is read from ``../shared/data`` where present.
"""
