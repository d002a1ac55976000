"""The configuration 系统管理 edits — the ledger policy (办理时限, 单位名录) and the remit taxonomy
(职责范围) — and the audit file that records every change made there.

**Which file is written.** Each file is the one every process reads (``Settings.ledger_policy_path``,
``Settings.taxonomy_path``): the file ``YUQING_LEDGER_POLICY_FILE`` / ``YUQING_TAXONOMY_FILE`` names,
else the copy under ``<home>/config/`` (``ledger-policy.yaml``, ``taxonomy.yaml``). While neither
exists the shipped file is read, and the first edit writes the copy under home; the installed
package is never written (it may be read-only, and an upgrade would replace it). The copy holds the
whole configuration as YAML without the shipped file's comments.

**Validation.** An edit is written to a temporary file beside the target and read back with the
service's own loader (:func:`response_ledger.policy.load_policy`,
:func:`classifiers.taxonomy.load_taxonomy`) before it replaces the target, so a file the service
could not start with is never saved. The page checks the fields first with Chinese messages; the
loader's verdict is the last word. An edit carries the fingerprint of the file it was drawn from: if
someone else saved meanwhile, nothing is written (:class:`StaleEdit`).

**Audit.** Every change appends one JSON line to ``<home>/config/audit.jsonl``: when (China time),
who (username and name), which file, and what changed in words. 系统管理 shows the newest lines.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from core.china_time import CHINA_TZ
from dashboard.auth import User
from yuqing.settings import Settings

Kind = Literal["policy", "taxonomy"]
COPY_NAMES: dict[Kind, str] = {"policy": "ledger-policy.yaml", "taxonomy": "taxonomy.yaml"}
KIND_LABELS: dict[Kind, str] = {"policy": "台账规则（办理时限、单位名录）", "taxonomy": "职责范围"}
AUDIT_FILE = "audit.jsonl"
HEADERS: dict[Kind, str] = {
    "policy": (
        "# 台账规则：工单类别与时限、立单规则、提醒、联系人、单位名录。"
        "由“系统管理”保存；格式见 docs/ledger.md。\n"
    ),
    "taxonomy": "# 职责范围：话题、关键词、责任单位。由“系统管理”保存；格式见 docs/classifiers.md。\n",
}


class ConfigError(ValueError):
    """An edit that cannot be saved; the message is for the administrator, in Chinese."""


class StaleEdit(ConfigError):
    """The file changed since the edit's form was drawn (someone else saved): nothing was written."""


@dataclass(frozen=True)
class Loaded:
    """A configuration file as read for editing: where it is, its decoded data and its fingerprint."""

    path: Path
    data: dict[str, Any]
    fingerprint: str
    shipped: bool  # the package's own file: the first save writes the copy under home


@dataclass(frozen=True)
class AuditLine:
    """One change made on 系统管理."""

    at: datetime
    username: str
    name: str
    target: str
    what: str


def in_use(settings: Settings, kind: Kind) -> tuple[Path, bool]:
    """The file ``kind`` is read from now, and whether it is the shipped one."""
    if kind == "policy":
        from response_ledger.policy import default_policy_path

        path, default = settings.ledger_policy_path, default_policy_path()
    else:
        from classifiers.taxonomy import default_taxonomy_path

        path, default = settings.taxonomy_path, default_taxonomy_path()
    return (path, False) if path is not None else (default, True)


def target(settings: Settings, kind: Kind) -> Path:
    """The file a save writes: the configured one, else the copy under home."""
    path, shipped = in_use(settings, kind)
    return settings.config_dir / COPY_NAMES[kind] if shipped else path


def read(settings: Settings, kind: Kind) -> Loaded:
    """The file in use, decoded; a :class:`ConfigError` when it cannot be read as YAML."""
    path, shipped = in_use(settings, kind)
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"配置文件 {path} 的内容不是键值映射")
    return Loaded(path, data, _fingerprint(raw), shipped)


def save(
    settings: Settings,
    kind: Kind,
    data: dict[str, Any],
    *,
    fingerprint: str,
    user: User,
    what: str,
) -> Path:
    """Validate ``data`` with the service's loader and write it where ``kind`` is read; audit the change.

    ``fingerprint`` is :attr:`Loaded.fingerprint` of the file the edit started from.
    Raises :class:`StaleEdit` when the file changed meanwhile and :class:`ConfigError` when the loader
    refuses the data or the file cannot be written; nothing is written then.
    """
    path = target(settings, kind)
    text = HEADERS[kind] + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    with _locked(settings.config_dir):
        if read(settings, kind).fingerprint != fingerprint:
            raise StaleEdit("配置已被他人修改，请刷新页面后重新编辑。")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise ConfigError(f"无法写入配置文件 {path}：{exc.strerror or exc}") from exc
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            _check(kind, Path(temporary))  # the service's own loader, on the very bytes to be saved
            Path(temporary).replace(path)
        except OSError as exc:
            raise ConfigError(f"无法写入配置文件 {path}：{exc.strerror or exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
        audit(settings, user, str(path), what)
    return path


def _check(kind: Kind, path: Path) -> None:
    loader: Callable[[Path], object]
    refused: type[Exception]
    if kind == "policy":
        from response_ledger.errors import RuleError
        from response_ledger.policy import load_policy

        loader, refused = load_policy, RuleError
    else:
        from classifiers.errors import TaxonomyError
        from classifiers.taxonomy import load_taxonomy

        loader, refused = load_taxonomy, TaxonomyError
    try:
        loader(path)
    except (refused, ValueError, TypeError, AttributeError, KeyError) as exc:
        # The loaders' own words (English) name the field at fault.
        raise ConfigError(f"未通过配置校验，未保存：{exc}") from exc


def audit(settings: Settings, user: User, target_name: str, what: str) -> None:
    """Append one line to the audit file: when, who, which file or table, what."""
    line = {
        "at": datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
        "username": user.username,
        "name": user.display_name,
        "target": target_name,
        "what": what,
    }
    settings.config_dir.mkdir(parents=True, exist_ok=True)
    # One short write in append mode: lines of two writers never interleave.
    with (settings.config_dir / AUDIT_FILE).open("a", encoding="utf-8") as out:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


def audit_lines(settings: Settings, *, limit: int = 200) -> list[AuditLine]:
    """The newest ``limit`` changes, newest first (a line that does not parse is skipped)."""
    try:
        lines = (settings.config_dir / AUDIT_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out: list[AuditLine] = []
    for raw in reversed(lines):
        try:
            item = json.loads(raw)
            out.append(
                AuditLine(
                    datetime.fromisoformat(item["at"]),
                    str(item["username"]),
                    str(item.get("name", "")),
                    str(item["target"]),
                    str(item["what"]),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
        if len(out) >= limit:
            break
    return out


def _fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One saver at a time across sessions and processes (``flock`` on a file under ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".config.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
