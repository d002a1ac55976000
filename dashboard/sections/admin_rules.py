"""系统管理 → 办理时限: the ticket classes' limits and the intake rules, and a form that changes one
class's name and limits.

The change is checked field by field here (Chinese messages), then written through
:mod:`dashboard.config_files`, which validates the file with the ledger's own loader before saving
it and records who changed what in the audit file. Tickets keep the limits they were opened with.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import config_files, flash
from dashboard.auth import User
from dashboard.config_files import ConfigError
from dashboard.labels import CHOOSE
from dashboard.ledger_view import intake_table, policy_table, rule_text
from dashboard.sections.admin_common import admin_action
from dashboard.services import Services

FLASH = "admin_rules_flash"
PICK = "rule_class"
STAGES = {"sign": "签收时限", "respond": "答复时限", "close": "办结时限", "max_extension": "最长延期"}
KINDS = {"none": "不设", "hours": "小时", "workdays": "个工作日", "days": "日", "months": "个月"}
MAX_AMOUNT = 9999
RULES_HELP = (
    "办理时限自收到诉求（立单）时起算。小时：自然小时，夜间和节假日照算；工作日：按国务院节假日安排"
    "（含调休上班日）计算；日、月：依民法典第二百零一至二百零三条，起算当日不计入，最后一日为节假日的"
    "顺延至下一工作日。暂停（补正、征求第三方意见）期间不计时；批准的延期在原时限上延长，累计不超过"
    "最长延期。"
)
EFFECT = (
    "保存后：本页和值班监测的人工立案立即按新规则；自动立单进程（worker-ledger）重启服务后按新规则；"
    "已立单的工单保留立单时的时限。"
)


def render(services: Services, admin: User) -> None:
    """The tab: the rules in words, then the form."""
    from response_ledger.errors import RuleError, describe

    path, shipped = config_files.in_use(services.settings, "policy")
    try:
        policy = services.policy()
    except RuleError as exc:
        st.error(f"办理时限配置有误，请修改配置文件后重启服务。{describe(exc)}")
        with st.expander("错误详情"):
            st.text(exc.reason)
        return
    st.caption(
        f"配置文件：{path}" + ("（程序自带；首次修改后另存到数据目录，之后以该副本为准）" if shipped else "")
    )
    st.caption(RULES_HELP)
    st.dataframe(policy_table(policy), hide_index=True, height="content")
    _form(services, admin, {name: item.title for name, item in policy.classes.items()})
    st.subheader("立单规则")
    st.dataframe(intake_table(policy), hide_index=True, height="content")
    st.caption(
        f"提醒：时限用去 {policy.due_soon_fraction:.0%} 时提醒承办人；"
        f"超期 {policy.leader_after_hours} 小时后通知单位领导并记督办。"
    )


def _load(services: Services) -> None:
    # The picker's on_change: the form starts from the picked class as the file holds it.
    from response_ledger.deadlines import Rule

    name = st.session_state.get(PICK)
    if not name:
        return
    item = services.policy().classes.get(str(name))
    if item is None:
        return
    st.session_state["rule_title"] = item.title
    limits = {
        "sign": item.limits.sign,
        "respond": item.limits.respond,
        "close": item.limits.close,
        "max_extension": item.limits.max_extension,
    }
    for stage, rule in limits.items():
        parsed: Rule | None = rule
        st.session_state[f"rule_{stage}_kind"] = parsed.kind.value if parsed else "none"
        st.session_state[f"rule_{stage}_n"] = parsed.amount if parsed else None


def _form(services: Services, admin: User, titles: dict[str, str]) -> None:
    with st.container(border=True, key="rules_form_box"):
        st.subheader("修改工单类别的时限")
        flash.show(FLASH)
        picked = st.selectbox(
            "工单类别",
            list(titles),
            index=None,
            format_func=lambda n: f"{titles[n]}（{n}）",
            placeholder=CHOOSE,
            key=PICK,
            on_change=_load,
            args=(services,),
        )
        if picked is None:
            st.caption("选择一个工单类别后修改其名称和各环节时限。" + EFFECT)
            return
        if "rule_title" not in st.session_state:
            _load(services)
        with st.form("rule_edit", border=False):
            st.text_input("类别名称", key="rule_title", max_chars=40)
            for stage, label in STAGES.items():
                amount, kind = st.columns([1, 1])
                amount.number_input(
                    f"{label}：数量",
                    min_value=1,
                    max_value=MAX_AMOUNT,
                    step=1,
                    value=None,
                    key=f"rule_{stage}_n",
                )
                options = [k for k in KINDS if not (stage == "close" and k == "none")]
                names = {**KINDS, "none": "不允许延期" if stage == "max_extension" else KINDS["none"]}
                kind.selectbox(
                    f"{label}：单位",
                    options,
                    format_func=names.__getitem__,
                    placeholder=CHOOSE,
                    key=f"rule_{stage}_kind",
                )
            st.caption(EFFECT)
            st.form_submit_button("保存时限", type="primary", on_click=_save, args=(services, admin, picked))


def limits_from(state: Any) -> dict[str, str | None]:
    """The four limits as the policy writes them (``workdays:5``, None for none) from the form's values;
    a ``ValueError`` in Chinese for a value that cannot be one."""
    out: dict[str, str | None] = {}
    for stage, label in STAGES.items():
        kind = state.get(f"rule_{stage}_kind") or "none"
        amount = state.get(f"rule_{stage}_n")
        if kind == "none":
            if stage == "close":
                raise ValueError("办结时限必须设置。")
            out[stage] = None
            continue
        if kind not in KINDS:
            raise ValueError(f"{label}的单位无法识别。")
        if amount is None or not 1 <= int(amount) <= MAX_AMOUNT:
            raise ValueError(f"请填写{label}的数量（1–{MAX_AMOUNT}），或把单位选为“不设”。")
        out[stage] = f"{kind}:{int(amount)}"
    return out


def _words(rule: object) -> str:
    return rule_text(str(rule)) if rule else "不设"


@admin_action(FLASH)
def _save(services: Services, admin: User, name: str) -> None:
    state = st.session_state
    title = str(state.get("rule_title") or "").strip()
    if not title:
        flash.leave(FLASH, "error", "保存失败：请填写类别名称。")
        return
    try:
        limits = limits_from(state)
        loaded = config_files.read(services.settings, "policy")
    except (ValueError, ConfigError) as exc:
        flash.leave(FLASH, "error", f"保存失败：{exc}")
        return
    data = dict(loaded.data)
    classes = dict(data.get("classes") or {})
    before = dict(classes.get(name) or {})
    spec: dict[str, Any] = {k: v for k, v in before.items() if k not in STAGES and k != "title"}
    spec["title"] = title
    spec.update({stage: rule for stage, rule in limits.items() if rule is not None})
    classes[name] = spec
    data["classes"] = classes
    changes = [
        f"{label} {_words(before.get(stage))} → {_words(limits[stage])}"
        for stage, label in STAGES.items()
        if (str(before[stage]) if before.get(stage) is not None else None) != limits[stage]
    ]
    if str(before.get("title", name)) != title:
        changes.insert(0, f"名称 {before.get('title', name)} → {title}")
    if not changes:
        flash.leave(FLASH, "info", "没有改动。")
        return
    what = f"工单类别 {name}：" + "；".join(changes)
    try:
        config_files.save(
            services.settings, "policy", data, fingerprint=loaded.fingerprint, user=admin, what=what
        )
    except ConfigError as exc:
        flash.leave(FLASH, "error", f"保存失败：{exc}")
        return
    flash.leave(FLASH, "success", f"已保存工单类别 {name} 的时限（{'；'.join(changes)}）。")
