"""The notification router of a command: ``YUQING_SMTP_*`` settings, overridden by ``--smtp-*`` flags."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from yuqing.settings import Settings

if TYPE_CHECKING:
    from response_ledger.notify import Router


def add_smtp_arguments(parser: argparse.ArgumentParser) -> None:
    """``--smtp-host``, ``--smtp-port`` and ``--sender``; unset, the ``YUQING_SMTP_*`` settings hold."""
    parser.add_argument("--smtp-host", help="邮件服务器（默认取 YUQING_SMTP_HOST）")
    parser.add_argument("--smtp-port", type=int, help="邮件服务器端口（默认取 YUQING_SMTP_PORT）")
    parser.add_argument("--sender", help="发件人地址（默认取 YUQING_SMTP_SENDER）")


def router_for(settings: Settings, args: argparse.Namespace) -> Router:
    """The channels of ``settings`` with any ``--smtp-*`` flag applied; attempts logged under home."""
    from response_ledger.notify import router_from_settings

    flags = {"smtp_host": args.smtp_host, "smtp_port": args.smtp_port, "smtp_sender": args.sender}
    return router_from_settings(
        dataclasses.replace(settings, **{k: v for k, v in flags.items() if v is not None})
    )
