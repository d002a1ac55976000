"""系统管理 → 职责范围: the remit taxonomy's topics (keywords, responsible unit, deadline class) with
a form that adds, changes or (after a confirmation) deletes one, and the unit directory (单位名录)
with a form that adds a unit (or removes one the directory alone names).

Every change is checked field by field here (Chinese messages), then written through
:mod:`dashboard.config_files`, which validates the file with the service's own loader before saving
it and records who changed what. Posts already classified keep their topic and unit.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import admin_data, config_files, flash, units
from dashboard.auth import User
from dashboard.config_files import ConfigError
from dashboard.labels import CHOOSE
from dashboard.sections.admin_common import LEDGER_UNAVAILABLE, admin_action, ask, confirmation, forget
from dashboard.services import Services
from dashboard.session import accounts

FLASH = "admin_remit_flash"
FLASH_UNITS = "admin_units_flash"  # shown beside the unit directory's forms
PICK = "remit_topic"
NEW = "__new__"
DELETE_KEY = "remit_delete_pending"
UNIT_DROP_KEY = "unit_drop_pending"
OUT_OF_REMIT = "其他"  # classifiers.topic.OUT_OF_REMIT: the label of everything outside the remit
LABEL_MAX, WORD_MAX, WORDS_MAX = 20, 20, 200
_WORDS = re.compile(r"[、,，;；\s]+")
EFFECT = (
    "保存后：看板立即按新职责范围显示；分类进程（worker-classify）重启服务后，新帖子按新的关键词和责任单位判断，"
    "已分类的帖子不变。新增话题要重新训练话题模型（yuqing models build）后模型才能识别，"
    "在此之前按关键词识别。"
)


def render(services: Services, admin: User) -> None:
    """The tab: the topics and their form, then the unit directory."""
    from classifiers.errors import TaxonomyError
    from response_ledger.errors import LedgerError

    path, shipped = config_files.in_use(services.settings, "taxonomy")
    try:
        taxonomy = services.taxonomy()
        policy = services.policy()
    except (TaxonomyError, LedgerError, ValueError) as exc:
        st.error("职责范围或台账规则配置有误，请修改配置文件后重启服务。")
        with st.expander("错误详情"):
            st.text(str(exc))
        return
    st.caption(
        f"配置文件：{path}" + ("（程序自带；首次修改后另存到数据目录，之后以该副本为准）" if shipped else "")
    )
    st.caption(
        f"部门：{taxonomy.department}；低于 {taxonomy.min_score:.0%} 置信度的帖子视为职责外（话题“其他”）。"
    )
    rows = [
        {
            "话题": t.label,
            "说明": t.description,
            "责任单位": t.unit,
            "时限类别": t.ticket_rule,
            "关键词": "、".join(t.keywords),
            "别名": "、".join(t.aliases),
        }
        for t in taxonomy.topics
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, height="content")
    try:
        directory = units.directory(taxonomy, policy, admin_data.units_of_tickets(services))
    except SQLAlchemyError:
        st.error(LEDGER_UNAVAILABLE)
        return
    classes = {name: item.title for name, item in policy.classes.items()}
    _topic_form(services, admin, [t.label for t in taxonomy.topics], [u.name for u in directory], classes)
    _units(services, admin, directory, policy.units)


def _load(services: Services) -> None:
    # The picker's on_change: the form starts from the picked topic (empty for a new one).
    picked = st.session_state.get(PICK)
    topic = services.taxonomy().topic(str(picked)) if picked and picked != NEW else None
    state = st.session_state
    state["remit_label"] = topic.label if topic else ""
    state["remit_description"] = topic.description if topic else ""
    state["remit_unit"] = topic.unit if topic else None
    state["remit_rule"] = topic.ticket_rule if topic else ""
    state["remit_keywords"] = "、".join(topic.keywords) if topic else ""
    state["remit_aliases"] = "、".join(topic.aliases) if topic else ""


def _topic_form(
    services: Services, admin: User, labels: list[str], unit_names: list[str], classes: dict[str, str]
) -> None:
    with st.container(border=True, key="remit_form_box"):
        st.subheader("修改职责范围")
        flash.show(FLASH)
        picked = st.selectbox(
            "话题",
            [NEW, *labels],
            index=None,
            placeholder=CHOOSE,
            key=PICK,
            on_change=_load,
            args=(services,),
            format_func=lambda label: "＋ 新增话题" if label == NEW else label,
        )
        if picked is None:
            st.caption("选择一个话题修改其关键词、责任单位和时限类别，或新增话题。" + EFFECT)
            return
        if "remit_label" not in st.session_state:
            _load(services)
        current_unit = st.session_state.get("remit_unit")
        choices = [*unit_names, *([current_unit] if current_unit and current_unit not in unit_names else [])]
        with st.form("remit_edit", border=False):
            st.text_input("话题名称", key="remit_label", max_chars=LABEL_MAX)
            st.text_input("说明", key="remit_description", max_chars=100)
            left, right = st.columns(2)
            left.selectbox(
                "责任单位",
                choices,
                index=None,
                placeholder=CHOOSE,
                key="remit_unit",
                help="从单位名录中选择；名录中没有的单位，请先在下方“单位名录”中新增。",
            )
            right.selectbox(
                "时限类别",
                ["", *classes],
                placeholder=CHOOSE,
                key="remit_rule",
                format_func=lambda c: "（按立单规则）" if not c else f"{classes[c]}（{c}）",
            )
            st.text_area("关键词（用顿号、逗号或换行分隔）", key="remit_keywords", height=90)
            st.text_input("别名（训练数据中该话题的其他名称，可不填）", key="remit_aliases")
            st.caption(EFFECT)
            st.form_submit_button(
                "保存话题", type="primary", on_click=_save_topic, args=(services, admin, picked)
            )
        if picked != NEW:
            st.button("删除该话题…", key="remit_delete", on_click=ask, args=(DELETE_KEY, picked))
            if st.session_state.get(DELETE_KEY) == picked:
                confirmation(
                    DELETE_KEY,
                    "确定删除该话题吗？此后分类不再识别它，原属该话题的新帖子将按其他话题或“其他”处理。",
                    f"话题：{picked}",
                    "确认删除",
                    lambda: _delete_topic(services, admin, str(picked)),
                )


def words(text: str) -> list[str]:
    """Keywords or aliases typed with 、，, ; or line breaks between them, each once, in order."""
    return list(dict.fromkeys(word for word in _WORDS.split(text.strip()) if word))


def topic_from(
    state: Any, labels: list[str], unit_names: list[str], classes: list[str], editing: str | None
) -> dict[str, Any]:
    """The topic as the taxonomy writes it, from the form's values; a ``ValueError`` in Chinese."""
    label = str(state.get("remit_label") or "").strip()
    if not label or len(label) > LABEL_MAX:
        raise ValueError(f"请填写话题名称（不超过 {LABEL_MAX} 个字）。")
    if label == OUT_OF_REMIT:
        raise ValueError(f"“{OUT_OF_REMIT}”表示职责范围外，不能作为话题名称。")
    if label != editing and label in labels:
        raise ValueError("已有同名的话题。")
    unit = state.get("remit_unit")
    if not unit or unit not in unit_names:
        raise ValueError("请从单位名录中选择责任单位。")
    keywords = words(str(state.get("remit_keywords") or ""))
    aliases = words(str(state.get("remit_aliases") or ""))
    if not keywords:
        raise ValueError("请至少填写一个关键词：没有话题模型时按关键词识别话题。")
    if len(keywords) > WORDS_MAX or any(len(word) > WORD_MAX for word in [*keywords, *aliases]):
        raise ValueError(f"关键词最多 {WORDS_MAX} 个，每个不超过 {WORD_MAX} 个字。")
    rule = str(state.get("remit_rule") or "")
    if rule and rule not in classes:
        raise ValueError("时限类别须为台账规则中的工单类别。")
    return {
        "label": label,
        "description": str(state.get("remit_description") or "").strip(),
        "aliases": aliases,
        "unit": str(unit),
        "ticket_rule": rule,
        "keywords": keywords,
    }


def describe_change(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """What an edit of a topic changed, in words for the audit file."""
    if before is None:
        return f"新增话题 {after['label']}（责任单位 {after['unit']}，关键词 {len(after['keywords'])} 个）"
    names = {"label": "名称", "description": "说明", "unit": "责任单位", "ticket_rule": "时限类别"}
    changes = [
        f"{name} {before.get(key) or '（空）'} → {after[key] or '（空）'}"
        for key, name in names.items()
        if str(before.get(key) or "") != str(after[key] or "")
    ]
    for key, name in (("keywords", "关键词"), ("aliases", "别名")):
        old, new = list(before.get(key) or []), after[key]
        added, dropped = [w for w in new if w not in old], [w for w in old if w not in new]
        if added:
            changes.append(f"{name}增加 {'、'.join(added)}")
        if dropped:
            changes.append(f"{name}删除 {'、'.join(dropped)}")
    return f"话题 {before.get('label')}：" + ("；".join(changes) or "无改动")


@admin_action(FLASH)
def _save_topic(services: Services, admin: User, picked: str) -> None:
    editing = None if picked == NEW else picked
    try:
        loaded = config_files.read(services.settings, "taxonomy")
        policy = services.policy()
        topics = [dict(item) for item in loaded.data.get("topics") or []]
        labels = [str(item.get("label")) for item in topics]
        directory = units.directory(services.taxonomy(), policy, admin_data.units_of_tickets(services))
        topic = topic_from(
            st.session_state, labels, [u.name for u in directory], list(policy.classes), editing
        )
    except (ValueError, ConfigError) as exc:
        flash.leave(FLASH, "error", f"保存失败：{exc}")
        return
    if editing is None:
        before, topics = None, [*topics, topic]
    else:
        at = labels.index(editing) if editing in labels else -1
        if at < 0:
            flash.leave(FLASH, "error", "保存失败：该话题已被他人删除，请刷新页面。")
            return
        before = topics[at]
        topics[at] = {**{k: v for k, v in before.items() if k not in topic}, **topic}
    what = describe_change(before, topic)
    data = {**loaded.data, "topics": topics}
    try:
        config_files.save(
            services.settings, "taxonomy", data, fingerprint=loaded.fingerprint, user=admin, what=what
        )
    except ConfigError as exc:
        flash.leave(FLASH, "error", f"保存失败：{exc}")
        return
    st.session_state[PICK] = topic["label"] if editing is not None else None
    if editing is None:
        for key in ("remit_label", "remit_description", "remit_keywords", "remit_aliases"):
            st.session_state.pop(key, None)
    flash.leave(FLASH, "success", "已保存话题。" + ("（新增）" if editing is None else ""))


@admin_action(FLASH)
def _delete_topic(services: Services, admin: User, label: str) -> None:
    forget(DELETE_KEY)
    try:
        loaded = config_files.read(services.settings, "taxonomy")
    except ConfigError as exc:
        flash.leave(FLASH, "error", f"删除失败：{exc}")
        return
    topics = [
        item
        for item in loaded.data.get("topics") or []
        if not (isinstance(item, dict) and item.get("label") == label)
    ]
    if not topics:
        flash.leave(FLASH, "error", "删除失败：职责范围至少要保留一个话题。")
        return
    data = {**loaded.data, "topics": topics}
    try:
        config_files.save(
            services.settings,
            "taxonomy",
            data,
            fingerprint=loaded.fingerprint,
            user=admin,
            what=f"删除话题 {label}",
        )
    except ConfigError as exc:
        flash.leave(FLASH, "error", f"删除失败：{exc}")
        return
    st.session_state[PICK] = None
    flash.leave(FLASH, "success", "已删除话题。")


def _units(services: Services, admin: User, directory: list[units.Unit], listed: tuple[str, ...]) -> None:
    st.subheader("单位名录")
    flash.show(FLASH_UNITS)
    st.caption(
        "账号的所属单位、话题的责任单位都从这里选择。单位出现在职责范围、调度单位、通知联系人、"
        "单位名录或已有工单中即列于此；不属于任何话题的单位（如改派对象）在下方新增。"
    )
    st.dataframe(
        pd.DataFrame(
            {"单位": [u.name for u in directory], "出处": ["、".join(u.origins) for u in directory]}
        ),
        hide_index=True,
        height="content",
    )
    add, drop = st.columns(2)
    with add, st.form("unit_add", border=True):
        st.text_input("新增单位（全称）", key="unit_new", max_chars=100, placeholder="如：区信访局")
        st.form_submit_button("新增单位", on_click=_add_unit, args=(services, admin))
    with drop, st.container(border=True):
        doomed = st.selectbox(
            "从单位名录移除",
            list(listed),
            index=None,
            placeholder=CHOOSE,
            key="unit_drop",
            help="只能移除在“单位名录”中新增的单位；职责范围、联系人和工单中的单位随其出处。",
        )
        st.button(
            "移除…", key="unit_drop_ask", disabled=doomed is None, on_click=ask, args=(UNIT_DROP_KEY, doomed)
        )
        pending = st.session_state.get(UNIT_DROP_KEY)
        if pending:
            confirmation(
                UNIT_DROP_KEY,
                "确定从单位名录移除该单位吗？",
                f"单位：{pending}",
                "确认移除",
                lambda: _drop_unit(services, admin, str(pending)),
            )


def _policy_units(services: Services) -> tuple[config_files.Loaded, list[str]]:
    loaded = config_files.read(services.settings, "policy")
    listed = loaded.data.get("units") or []
    return loaded, [str(unit) for unit in listed] if isinstance(listed, list) else []


@admin_action(FLASH_UNITS)
def _add_unit(services: Services, admin: User) -> None:
    try:
        directory = units.directory(
            services.taxonomy(), services.policy(), admin_data.units_of_tickets(services)
        )
        name = units.new_unit_name(str(st.session_state.get("unit_new") or ""), [u.name for u in directory])
        loaded, listed = _policy_units(services)
        data = {**loaded.data, "units": [*listed, name]}
        config_files.save(
            services.settings,
            "policy",
            data,
            fingerprint=loaded.fingerprint,
            user=admin,
            what=f"单位名录新增 {name}",
        )
    except (ValueError, ConfigError) as exc:
        flash.leave(FLASH_UNITS, "error", f"新增失败：{exc}")
        return
    st.session_state["unit_new"] = ""
    flash.leave(FLASH_UNITS, "success", "已新增单位，现在可在账号和话题中选择它。")


@admin_action(FLASH_UNITS)
def _drop_unit(services: Services, admin: User, name: str) -> None:
    forget(UNIT_DROP_KEY)
    try:
        users = [a.user.username for a in accounts(services).all() if a.user.unit == name]
        if users:
            raise ValueError(f"仍有 {len(users)} 个账号属于该单位（{'、'.join(users)}），请先修改这些账号。")
        loaded, listed = _policy_units(services)
        if name not in listed:
            raise ValueError("该单位不在“单位名录”新增的单位中。")
        data = {**loaded.data, "units": [unit for unit in listed if unit != name]}
        config_files.save(
            services.settings,
            "policy",
            data,
            fingerprint=loaded.fingerprint,
            user=admin,
            what=f"单位名录移除 {name}",
        )
    except (ValueError, ConfigError) as exc:
        flash.leave(FLASH_UNITS, "error", f"移除失败：{exc}")
        return
    st.session_state["unit_drop"] = None
    flash.leave(FLASH_UNITS, "success", "已从单位名录移除该单位。")
