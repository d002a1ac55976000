"""The briefing template from YAML: department, titles, header, sections, list sizes, recipients.

The package ships ``template.yaml``; a deployment points ``YUQING_BRIEFING_TEMPLATE_FILE`` at its
own copy. A key left out keeps the shipped value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from briefing.errors import TemplateError
from briefing.period import PERIOD_KINDS, PERIOD_NAMES

SECTIONS: dict[str, str] = {
    "headline": "总体态势",
    "charts": "声量走势与话题分布",
    "events": "重点事件",
    "spikes": "舆情突增",
    "risks": "风险提示",
    "topics": "话题变化",
    "ledger": "回应台账",
    "decisions": "待领导决策事项",
}
"""Every section a template may name, with its Chinese heading, in the default order."""

_COUNTS = ("top_events", "posts_per_event", "risk_posts", "topic_moves", "spikes", "decisions")


@dataclass(frozen=True)
class Template:
    """What a department configures about its briefing."""

    department: str = "示范区人民政府办公室"
    titles: tuple[tuple[str, str], ...] = tuple((k, f"舆情{v}") for k, v in PERIOD_NAMES.items())
    header: str = "内部资料　注意保存"  # the 密级/内部资料 line above the 版头
    issuer: str = ""  # 编发单位 in the 版头; the department when empty
    signer: str = ""  # 签发人; left out of the 版头 when empty
    issue_format: str = "{year}年第{n}期"  # 期号: {n} is the day of the year, the ISO week or the month
    sections: tuple[str, ...] = tuple(SECTIONS)
    top_events: int = 5
    posts_per_event: int = 2
    risk_threshold: int = 80
    risk_posts: int = 10
    topic_moves: int = 5
    spikes: int = 5
    decisions: int = 30
    recipients: tuple[str, ...] = ()

    def issue(self, first_day: date, kind: str) -> str:
        """The 期号 of the briefing of the period starting ``first_day``: 2026年第64期."""
        n = {"week": first_day.isocalendar().week, "month": first_day.month}.get(
            kind, first_day.timetuple().tm_yday
        )
        return self.issue_format.format(year=first_day.year, n=n)

    def title(self, kind: str) -> str:
        """The title of a briefing of this period kind."""
        return dict(self.titles).get(kind) or f"舆情{PERIOD_NAMES.get(kind, '简报')}"


def default_template_path() -> Path:
    """The template shipped with the package."""
    return Path(str(resources.files("briefing").joinpath("template.yaml")))


def load_template(path: Path | None = None) -> Template:
    """Read and check a template file (the shipped one when ``path`` is None)."""
    source = path or default_template_path()
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(str(source), f"cannot read the briefing template: {exc}") from exc
    return parse_template(data or {}, where=str(source))


def parse_template(data: Any, *, where: str = "template") -> Template:
    """Check decoded YAML; an error names the key at fault."""
    if not isinstance(data, dict):
        raise TemplateError(where, "a briefing template is a mapping of keys")
    base = Template()
    values: dict[str, Any] = {}
    for key in ("department", "header", "issuer", "signer", "issue_format"):
        if key in data:
            if not isinstance(data[key], str):
                raise TemplateError(where, f"`{key}` must be text")
            values[key] = data[key]
    if "titles" in data:
        titles = data["titles"]
        if not isinstance(titles, dict) or not all(
            k in PERIOD_KINDS and isinstance(v, str) and v for k, v in titles.items()
        ):
            raise TemplateError(where, f"`titles` maps {'/'.join(PERIOD_KINDS)} to a title")
        values["titles"] = tuple({**dict(base.titles), **titles}.items())
    if "sections" in data:
        sections = data["sections"]
        if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
            raise TemplateError(where, "`sections` must be a list of section names")
        unknown = [s for s in sections if s not in SECTIONS]
        if unknown:
            raise TemplateError(where, f"unknown sections {unknown}; known: {', '.join(SECTIONS)}")
        values["sections"] = tuple(dict.fromkeys(sections))
    for key in (*_COUNTS, "risk_threshold"):
        if key in data:
            value = data[key]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1000:
                raise TemplateError(where, f"`{key}` must be a whole number 0-1000")
            values[key] = value
    if "issue_format" in values:
        try:
            values["issue_format"].format(year=2026, n=1)
        except (KeyError, IndexError, ValueError):
            raise TemplateError(where, "`issue_format` may use only {year} and {n}") from None
    if values.get("risk_threshold", base.risk_threshold) > 100:
        raise TemplateError(where, "`risk_threshold` must be 0-100")
    if "recipients" in data:
        recipients = data["recipients"] or []
        if not isinstance(recipients, list) or not all(isinstance(r, str) and ":" in r for r in recipients):
            raise TemplateError(where, "`recipients` must be addresses such as mailto:… or wecom:https://…")
        values["recipients"] = tuple(recipients)
    return replace(base, **values)
