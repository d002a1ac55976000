"""yuqing: the composition root — settings, the command line and the embedded service runner.

Every process starts in :mod:`yuqing.cli`, builds one frozen :class:`yuqing.settings.Settings`
from the environment and passes it down; no other package reads the environment.

Layer 6, the top: it may import every package; only :mod:`yuqing.settings` may be imported by them
(``tests/test_layers.py``).
"""

__version__ = "0.1.0"
