"""``python -m yuqing`` is the ``yuqing`` command."""

from yuqing.cli import main

main()
