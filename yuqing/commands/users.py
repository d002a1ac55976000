"""``yuqing users add|set|disable|enable|passwd|list``: dashboard accounts, managed from the command line.

As on 系统管理 → 用户: a unit must be one of the unit directory's (the remit taxonomy's, the ledger
policy's and the tickets' units, :mod:`dashboard.units`), a reset password signs the user out
everywhere, and the last active administrator stays one.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime, timedelta
from typing import Any

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


def _known_units(settings: Settings, engine: Any) -> list[str]:
    from classifiers.taxonomy import load_taxonomy
    from dashboard.units import directory
    from response_ledger.policy import load_policy
    from response_ledger.queries import ticket_units

    taxonomy = load_taxonomy(settings.taxonomy_path)
    policy = load_policy(settings.ledger_policy_path)
    return [unit.name for unit in directory(taxonomy, policy, ticket_units(engine))]


def _unit(settings: Settings, engine: Any, unit: str | None) -> str | None:
    """``unit`` checked against the unit directory (None: no unit); a ValueError naming the known ones."""
    if unit is None or not unit.strip():
        return None
    known = _known_units(settings, engine)
    if unit.strip() not in known:
        raise ValueError(
            f"单位“{unit}”不在单位名录中。可用的单位：{'、'.join(known) or '（无）'}。"
            "新单位请先在“系统管理 → 职责范围 → 单位名录”中新增。"
        )
    return unit.strip()


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from core.china_time import CHINA_TZ
    from dashboard.accounts import UNSET, AccountError, Accounts
    from dashboard.auth import Role
    from dashboard.sessions import SessionStore
    from response_ledger.db import migrated_engine

    engine = migrated_engine(settings.ledger_sqlalchemy_url)
    accounts = Accounts(engine)
    now = datetime.now(CHINA_TZ)
    try:
        if args.users_command == "add":
            user = accounts.add(
                args.username,
                args.name or args.username,
                Role(args.role),
                _password(args),
                now,
                unit=_unit(settings, engine, args.unit),
            )
            print(f"已添加用户 {user.username}（{user.role.label}）")
        elif args.users_command == "set":
            unit = None if args.no_unit else (_unit(settings, engine, args.unit) if args.unit else UNSET)
            user = accounts.update(
                args.username,
                now,
                display_name=args.name,
                role=Role(args.role) if args.role else None,
                unit=unit,
            )
            print(f"已修改用户 {user.username}：{user.role.label}，单位 {user.unit or '—'}，", end="")
            print(f"姓名 {user.display_name}")
        elif args.users_command == "passwd":
            accounts.set_password(args.username, _password(args), now)
            store = SessionStore(
                engine,
                idle=timedelta(minutes=settings.session_idle_minutes),
                lifetime=timedelta(hours=settings.session_max_hours),
            )
            ended = store.revoke_others(args.username, now)
            print(f"已修改用户 {args.username} 的密码，其 {ended} 个登录会话已退出")
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
    change = commands.add_parser("set", help="修改账号的角色、单位或显示名称")
    change.add_argument("username")
    change.add_argument("--role", choices=[r.value for r in Role], help="新角色")
    change.add_argument("--name", help="新的显示名称")
    unit = change.add_mutually_exclusive_group()
    unit.add_argument("--unit", help="新单位（须在单位名录中）")
    unit.add_argument("--no-unit", action="store_true", help="清除单位（办理人员不可）")
    passwd = commands.add_parser("passwd", help="设置新密码（该用户已登录的会话全部退出）")
    passwd.add_argument("username")
    for command in (add, passwd):
        command.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    disable = commands.add_parser("disable", help="停用账号（不能再登录）")
    enable = commands.add_parser("enable", help="重新启用已停用的账号")
    for command in (disable, enable):
        command.add_argument("username")
    commands.add_parser("list", help="列出账号")
    users.set_defaults(handler=_run)
