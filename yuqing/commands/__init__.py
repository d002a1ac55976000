"""Subcommands of ``yuqing``, one module per area; each module has ``register(subparsers)``.

A module registers its subcommands with ``handler=`` set to a function ``(settings, args) -> int``.
:func:`yuqing.cli.build_parser` discovers every module here, so an area adds commands without
touching the others.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from yuqing.settings import Settings

Subparsers = Any  # argparse's _SubParsersAction is private

# The demo site and the benchmarks are a distribution of their own (devtools/, yuqing-devtools), never in
# the service's wheel or image; `make run` and `make dev` install it.
DEVTOOLS_INSTALL = "-m pip install --no-deps -e ./devtools"  # after this process's python
DEVTOOLS_MISSING = 2  # the exit status of a command whose devtools package is not installed


def devtools_missing(package: str) -> bool:
    """Whether ``package`` of yuqing-devtools is not installed; if so, say how to install it (stderr)."""
    if importlib.util.find_spec(package) is not None:
        return False
    install = f"{sys.executable} {DEVTOOLS_INSTALL}"
    print(
        f"未安装开发工具包 yuqing-devtools（缺少 {package}）：演示站点和性能基准不随服务发布。"
        f"请在仓库根目录运行 {install}（make run 和 make dev 会自动安装）。\n"
        f"yuqing-devtools is not installed (no {package} package): the demo site and the benchmarks do "
        f"not ship with the service. From the repository's root, run: {install}",
        file=sys.stderr,
    )
    return True


MISSING_SALT = 2  # the exit status of a command that would write pseudonyms without the deployment's key


def salt_missing(settings: Settings) -> bool:
    """Whether ``YUQING_AUTHOR_SALT`` is unset; if so, say why it matters and how to make one (stderr).

    Pseudonyms of authors and callers are HMACs keyed with it: without a key of its own a deployment's
    pseudonyms could be recomputed by anyone from a masked phone number. ``yuqing up --demo`` makes one.
    """
    if settings.author_salt:
        return False
    print(
        "未设置 YUQING_AUTHOR_SALT：作者和来电人的化名要用本部署自己的密钥计算，缺少它，化名可被他人反推。"
        '生成一个：python -c "import secrets; print(secrets.token_hex(32))"，写入 .env 或环境变量 '
        "YUQING_AUTHOR_SALT 后再启动，此后不要更改（更改后同一作者的化名会变）。演示请用 yuqing up --demo。",
        file=sys.stderr,
    )
    return True
