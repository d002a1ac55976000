"""What 系统管理 writes: the ledger policy and the taxonomy where every process reads them, validated by
the service's own loaders first, each change a line of the audit file; and the unit directory."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from classifiers.taxonomy import load_taxonomy
from dashboard import config_files, units
from dashboard.auth import Role, User
from dashboard.config_files import ConfigError, StaleEdit
from response_ledger.policy import default_policy_path, load_policy
from yuqing.settings import Settings

ADMIN = User("admin1", "管理员甲", Role.ADMIN)


def test_the_first_edit_of_a_shipped_file_writes_a_copy_under_home_that_everyone_reads(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path)
    assert settings.ledger_policy_path is None and config_files.in_use(settings, "policy") == (
        default_policy_path(),
        True,
    )
    loaded = config_files.read(settings, "policy")
    data = {**loaded.data, "units": ["区信访局"]}
    written = config_files.save(
        settings, "policy", data, fingerprint=loaded.fingerprint, user=ADMIN, what="单位名录新增 区信访局"
    )
    assert written == tmp_path / "config" / "ledger-policy.yaml"
    assert settings.ledger_policy_path == written  # every process started from now on reads the copy
    assert load_policy(settings.ledger_policy_path).units == ("区信访局",)
    assert default_policy_path().read_text(encoding="utf-8").count("区信访局") == 0  # the package untouched
    [line] = config_files.audit_lines(settings)
    assert (line.username, line.name, line.target, line.what) == (
        "admin1",
        "管理员甲",
        str(written),
        "单位名录新增 区信访局",
    )


def test_a_configured_file_is_written_in_place(tmp_path: Path) -> None:
    own = tmp_path / "etc" / "taxonomy.yaml"
    own.parent.mkdir()
    own.write_text(
        Path(str(config_files.in_use(Settings(home=tmp_path), "taxonomy")[0])).read_text("utf-8"), "utf-8"
    )
    settings = Settings(home=tmp_path / "home", taxonomy_file=own)
    loaded = config_files.read(settings, "taxonomy")
    topics = loaded.data["topics"]
    topics[0]["unit"] = "区人社局综合科"
    config_files.save(settings, "taxonomy", loaded.data, fingerprint=loaded.fingerprint, user=ADMIN, what="x")
    assert load_taxonomy(own).topics[0].unit == "区人社局综合科"
    assert not (tmp_path / "home" / "config" / "taxonomy.yaml").exists()


def test_what_the_loader_refuses_is_never_saved(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    loaded = config_files.read(settings, "policy")
    broken = {
        **loaded.data,
        "classes": {**loaded.data["classes"], "quick": {"title": "快办", "close": "fortnight:1"}},
    }
    with pytest.raises(ConfigError, match="未通过配置校验"):
        config_files.save(settings, "policy", broken, fingerprint=loaded.fingerprint, user=ADMIN, what="x")
    assert settings.ledger_policy_path is None and config_files.audit_lines(settings) == []
    assert not list((tmp_path / "config").glob("*.tmp"))


def test_an_edit_drawn_before_someone_else_saved_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    first = config_files.read(settings, "policy")
    config_files.save(
        settings,
        "policy",
        {**first.data, "units": ["甲单位"]},
        fingerprint=first.fingerprint,
        user=ADMIN,
        what="a",
    )
    with pytest.raises(StaleEdit, match="已被他人修改"):
        config_files.save(
            settings,
            "policy",
            {**first.data, "units": ["乙单位"]},
            fingerprint=first.fingerprint,
            user=ADMIN,
            what="b",
        )
    assert yaml.safe_load(settings.config_dir.joinpath("ledger-policy.yaml").read_text("utf-8"))["units"] == [
        "甲单位"
    ]


def test_the_unit_directory_names_where_each_unit_comes_from(tmp_path: Path) -> None:
    policy = load_policy()
    taxonomy = load_taxonomy()
    found = {
        unit.name: unit.origins
        for unit in units.directory(taxonomy, policy, ["区住房和城乡建设局", "云溪市供水有限公司"])
    }
    assert found["区住房和城乡建设局"] == ("职责范围", "已有工单")
    assert found["区政府办公室"] == ("调度单位",)
    assert found["云溪市供水有限公司"] == ("已有工单",)
    assert "区住建局" not in found


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "请填写"),
        ("局", "至少 2 个字"),
        ("区住房和城乡建设局", "已有"),
        ("区<b>局", "不能含有"),
        ("局" * 101, "不超过"),
    ],
)
def test_a_new_unit_name_is_checked(typed: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        units.new_unit_name(typed, ["区住房和城乡建设局"])
    assert units.new_unit_name(" 区信访局 ", ["区住房和城乡建设局"]) == "区信访局"
