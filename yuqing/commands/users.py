"""``yuqing users add|disable|enable|passwd|list``: dashboard accounts, managed from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime

from yuqing.commands import Subparsers
from yuqing.settings import Settings


def _password(args: argparse.Namespace) -> str:
    """From stdin with ``--password-stdin`` (scripts), else asked twice without echo."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("新密码：")
    if getpass.getpass("再次输入：") != first:
        raise SystemExit("两次输入的密码不一致")
    return first


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from core.china_time import CHINA_TZ
    from dashboard.accounts import AccountError, Accounts
    from dashboard.auth import Role
    from response_ledger.db import migrated_engine

    accounts = Accounts(migrated_engine(settings.ledger_sqlalchemy_url))
    now = datetime.now(CHINA_TZ)
    try:
        if args.users_command == "add":
            user = accounts.add(
                args.username,
                args.name or args.username,
                Role(args.role),
                _password(args),
                now,
                unit=args.unit,
            )
            print(f"已添加用户 {user.username}（{user.role.label}）")
        elif args.users_command == "passwd":
            accounts.set_password(args.username, _password(args), now)
            print(f"已修改用户 {args.username} 的密码")
        elif args.users_command == "disable":
            accounts.disable(args.username, now)
            print(f"已停用用户 {args.username}")
        elif args.users_command == "enable":
            accounts.enable(args.username, now)
            print(f"已启用用户 {args.username}")
        else:
            for account in accounts.all():
                user = account.user
                state = "启用" if account.active else "停用"
                print(f"{user.username}\t{user.display_name}\t{user.role.label}\t{user.unit or '—'}\t{state}")
    except (AccountError, ValueError) as exc:
        print(f"操作失败：{exc}", file=sys.stderr)
        return 1
    return 0


def register(sub: Subparsers) -> None:
    """Add ``users`` and its subcommands."""
    from dashboard.auth import Role

    users = sub.add_parser("users", help="管理看板账号")
    commands = users.add_subparsers(dest="users_command", required=True)
    add = commands.add_parser("add", help="新建账号")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--name", help="显示名称")
    add.add_argument("--unit", help="办理人员所属单位")
    passwd = commands.add_parser("passwd", help="设置新密码")
    passwd.add_argument("username")
    for command in (add, passwd):
        command.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    disable = commands.add_parser("disable", help="停用账号（不能再登录）")
    enable = commands.add_parser("enable", help="重新启用已停用的账号")
    for command in (disable, enable):
        command.add_argument("username")
    commands.add_parser("list", help="列出账号")
    users.set_defaults(handler=_run)
