"""Security Center exports end to end: the official Sas SDK on a real socket, a manual clock.

Every expected workbook is an oracle computed here straight from the fixture YAML files (their
comments say how records become rows), never from the emulator's own code.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from typing import Any

import openpyxl
import pytest
import requests
import yaml
from alibabacloud_sas20181203 import models as sm
from alibabacloud_tea_openapi.exceptions import ClientException

from emulator.testing.flows import ROOT
from emulator.testing.process import Control, EmulatorProcess
from emulator.testing.sdk import DAVE, sas

FIXTURES = ROOT / "fixtures"
RECORD_TYPES = yaml.safe_load((FIXTURES / "sas_exports.yaml").read_text(encoding="utf-8"))
VULS = yaml.safe_load((FIXTURES / "sas" / "vulnerabilities.yaml").read_text(encoding="utf-8"))
CHECKS = yaml.safe_load((FIXTURES / "sas" / "baseline_checks.yaml").read_text(encoding="utf-8"))
EVENTS = yaml.safe_load((FIXTURES / "sas" / "suspicious_events.yaml").read_text(encoding="utf-8"))
RD_MEMBER, RD_STRANGER = 1666036095600001, 1777036095600001

# the ExportType values of ExportRecordRequest in alibabacloud-sas20181203 10.3.2, copied by hand
SDK_EXPORT_TYPES = """assetInstance user port process sca database web software cron autorun lkm
webserver virusScanExport imageVulExport imageBaseLineExport imageAffectedMaliciousExport
baselineCspm attack accessKey exportObjectScanEvents domainDetail assetsPropertyScaProcessDetail
exportHcWarning raspAttackAlert raspApplicationConfiguration raspWeaknessDetection
raspInMemoryWebshellDetection raspInMemoryWebshellInsertion listAgentExport listSkillExport
listModelExport listAiAgentEventExport""".split()

Rec = dict[str, Any]


# --- the oracle: fixture files -> expected rows ---------------------------------------------


def generated(spec: dict[str, Any]) -> list[list[str]]:
    """sas_exports.yaml's rule: row i takes values[(i * 7 + column) % len(values)], {i} -> i."""
    cols = list(spec["columns"].values())
    return [
        [str(v[(i * 7 + c) % len(v)]).replace("{i}", str(i)) for c, v in enumerate(cols)]
        for i in range(1, spec["rows"] + 1)
    ]


def as_cell(value: Any) -> Any:
    """The files' rule: a list cell is its items joined with ', '; empty text reads back None."""
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return None if value == "" else value


def expected(doc: dict[str, Any], keep: Callable[[Rec], bool], lang: str = "en") -> list[list]:
    header = [c[lang] for c in doc["columns"]]
    rows = [[as_cell(r[c["field"]]) for c in doc["columns"]] for r in doc["records"] if keep(r)]
    return [header, *rows]


def epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


# --- reading what the emulator wrote --------------------------------------------------------


def sheet_rows(blob: bytes) -> list[list[Any]]:
    ws = openpyxl.load_workbook(io.BytesIO(blob), read_only=True).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def zipped_rows(link: str) -> list[list[Any]]:
    r = requests.get(link, timeout=10)
    assert r.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = zf.namelist()
    assert len(names) == 1 and names[0].endswith(".xlsx"), names
    return sheet_rows(zf.read(names[0]))


def poll(control: Control, describe: Callable[[], Any], status: str, done: str) -> tuple:
    """Poll until `done`, half a second of emulated time apart: (statuses seen, counts, last)."""
    seen: list[str] = []
    counts: list[int] = []
    for _ in range(200):
        info = describe()
        st = getattr(info, status)
        if not seen or seen[-1] != st:
            seen.append(st)
        counts.append(info.progress)
        assert (info.link is not None) == (st == "success")
        assert 0 <= info.progress <= 100
        if st == done:
            return seen, counts, info
        control.advance(0.5)
    raise AssertionError(f"never reached {done}: {seen}")


def code_of(call: Callable[[], Any]) -> tuple[str, int]:
    with pytest.raises(ClientException) as exc:
        call()
    return exc.value.code, exc.value.status_code


# --- ExportRecord: every ExportType the SDK lists -------------------------------------------


def test_fixture_has_every_sdk_export_type() -> None:
    assert sorted(RECORD_TYPES) == sorted(SDK_EXPORT_TYPES)


@pytest.mark.parametrize("export_type", SDK_EXPORT_TYPES)
def test_export_record_grows_with_the_clock_to_a_real_xlsx(
    endpoint: str, control: Control, export_type: str
) -> None:
    client = sas(endpoint)
    started = client.export_record(
        sm.ExportRecordRequest(export_type=export_type, params="{}", lang="en")
    ).body
    spec = RECORD_TYPES[export_type]
    assert started.id and started.file_name.startswith(spec["file_prefix"] + "_")
    seen: list[str] = []
    counts: list[int] = []
    while True:
        info = client.describe_export_info(sm.DescribeExportInfoRequest(export_id=started.id)).body
        assert info.export_status in ("init", "exporting", "success")
        assert 0 <= info.current_count <= info.total_count and 0 <= info.progress <= 100
        assert (info.link is not None) == (info.export_status == "success")
        if not seen or seen[-1] != info.export_status:
            seen.append(info.export_status)
        counts.append(info.current_count)
        if info.export_status == "success":
            break
        control.advance(0.5)
    assert seen == ["init", "exporting", "success"] and counts == sorted(counts)
    assert info.message == "success" and info.progress == 100
    assert info.file_name == started.file_name and info.total_count == spec["rows"]
    r = requests.get(info.link, timeout=10)
    assert r.status_code == 200
    rows = sheet_rows(r.content)
    assert rows[0] == list(spec["columns"])
    assert len(rows) - 1 == info.total_count
    assert [[v if v is not None else "" for v in row] for row in rows[1:]] == generated(spec)


def test_export_record_file_types(endpoint: str) -> None:
    client = sas(endpoint)
    ok = client.export_record(
        sm.ExportRecordRequest(export_type="virusScanExport", export_file_type="virusScanExport")
    ).body
    assert ok.file_name.startswith("virus_scan_export_")
    assert code_of(
        lambda: client.export_record(
            sm.ExportRecordRequest(export_type="assetInstance", export_file_type="virusScanExport")
        )
    ) == ("InvalidExportFileType", 400)
    assert code_of(
        lambda: client.export_record(
            sm.ExportRecordRequest(export_type="assetInstance", export_file_type="pdf")
        )
    ) == ("InvalidExportFileType", 400)


# --- ExportVul -> DescribeVulExportInfo -----------------------------------------------------


def test_vul_export_end_to_end_zip_of_xlsx(endpoint: str, control: Control) -> None:
    """What the public reporting script does: app vulnerabilities, zh, every priority, unfixed."""
    client = sas(endpoint)
    started = client.export_vul(
        sm.ExportVulRequest(
            type="app", attach_types="sca", lang="zh", necessity="asap,later,nntf", dealed="n"
        )
    ).body
    assert started.file_name.startswith(VULS["file_prefix"] + "_")

    def describe() -> Any:
        return client.describe_vul_export_info(
            sm.DescribeVulExportInfoRequest(export_id=started.id)
        ).body

    seen, progress, info = poll(control, describe, "export_status", "success")
    assert seen == ["init", "exporting", "success"] and progress == sorted(progress)
    want = expected(VULS, lambda r: r["type"] in ("app", "sca") and r["dealed"] == "n", "zh")
    assert info.total_count == info.current_count == len(want) - 1 > 0
    assert info.message == "success" and info.id == started.id
    assert zipped_rows(info.link) == want


VUL_FILTERS: list[tuple[dict[str, Any], Callable[[Rec], bool]]] = [
    ({"type": "cve"}, lambda r: r["type"] == "cve"),
    ({"type": "sys"}, lambda r: r["type"] == "sys"),
    ({"type": "cms"}, lambda r: r["type"] == "cms"),
    ({"type": "app"}, lambda r: r["type"] == "app"),
    ({"type": "emg"}, lambda r: r["type"] == "emg"),
    (
        {"type": "cve", "necessity": "asap"},
        lambda r: r["type"] == "cve" and r["necessity"] == "asap",
    ),
    ({"type": "cve", "dealed": "y"}, lambda r: r["type"] == "cve" and r["dealed"] == "y"),
    (
        {"type": "cve", "uuids": "c5a1e2b0-0001-4e6f-9a10-3000aa000001"},
        lambda r: r["type"] == "cve" and r["uuid"].endswith("000001"),
    ),
    ({"type": "cve", "cve_id": "CVE-2023-0286"}, lambda r: "CVE-2023-0286" in r["cve_ids"]),
    (
        {"type": "cve", "alias_name": "OPENSSL"},
        lambda r: r["type"] == "cve" and "openssl" in r["alias_name"].lower(),
    ),
    ({"type": "cve", "group_id": "10001"}, lambda r: r["type"] == "cve" and r["group_id"] == 10001),
    (
        {"type": "cve", "asset_type": "CONTAINER"},
        lambda r: r["type"] == "cve" and r["asset_type"] == "CONTAINER",
    ),
    (
        {"type": "emg", "search_tags": "Remote utilization,EXP exists"},
        lambda r: (
            r["type"] == "emg" and bool({"Remote utilization", "EXP exists"} & set(r["tags"]))
        ),
    ),
    ({"type": "app", "rasp_defend": 1}, lambda r: r["type"] == "app" and r["rasp_defend"] == 1),
    (
        {"type": "cve", "create_ts_start": 1_760_000_000_000, "create_ts_end": 1_762_000_000_000},
        lambda r: r["type"] == "cve" and 1_760_000_000 <= epoch(r["first_seen"]) <= 1_762_000_000,
    ),
    (
        {
            "type": "cve",
            "vul_entity_list": [sm.ExportVulRequestVulEntityList(entity_name="openssl")],
        },
        lambda r: r["type"] == "cve" and r["entity_name"] == "openssl",
    ),
    (
        {
            "type": "cve",
            "vul_entity_list": [
                sm.ExportVulRequestVulEntityList(entity_name="openssl", entity_version="3.0.2")
            ],
        },
        lambda r: (
            r["type"] == "cve" and (r["entity_name"], r["entity_version"]) == ("openssl", "3.0.2")
        ),
    ),
]


def test_vul_filters_change_total_count_as_the_fixture_says(endpoint: str) -> None:
    client = sas(endpoint)
    totals = []
    for kwargs, keep in VUL_FILTERS:
        started = client.export_vul(sm.ExportVulRequest(**kwargs)).body
        info = client.describe_vul_export_info(
            sm.DescribeVulExportInfoRequest(export_id=started.id)
        ).body
        want = sum(1 for r in VULS["records"] if keep(r))
        assert info.total_count == want, kwargs
        totals.append(want)
    assert len(set(totals)) > 4, "the filters are meant to select different records"


def test_vul_filtered_workbook_rows(endpoint: str, control: Control) -> None:
    client = sas(endpoint)
    started = client.export_vul(
        sm.ExportVulRequest(
            type="cve",
            necessity="asap,later",
            lang="en",
            uuids=("c5a1e2b0-0002-4e6f-9a10-3000aa000002,c5a1e2b0-0006-4e6f-9a10-3000aa000006"),
        )
    ).body
    control.advance(60)
    info = client.describe_vul_export_info(
        sm.DescribeVulExportInfoRequest(export_id=started.id)
    ).body
    want = expected(
        VULS,
        lambda r: (
            r["type"] == "cve" and r["necessity"] in ("asap", "later") and r["uuid"][-1] in "26"
        ),
    )
    assert info.export_status == "success" and info.total_count == len(want) - 1
    assert zipped_rows(info.link) == want


# --- ExportWarning -> DescribeWarningExportInfo and DescribeHcExportInfo --------------------


def mask(pw: str) -> str:
    return pw[0] + "***" + pw[-1] if pw else ""


def test_warning_export_polled_by_both_info_actions(endpoint: str, control: Control) -> None:
    client = sas(endpoint)
    start_ms = control.get("/clock")["epoch"] * 1000
    started = client.export_warning(
        sm.ExportWarningRequest(
            export_type="hc_check_warning", risk_levels="high", status_list="1", lang="en"
        )
    ).body
    assert started.file_name.startswith(CHECKS["file_prefix"] + "_")

    def warning() -> Any:
        return client.describe_warning_export_info(
            sm.DescribeWarningExportInfoRequest(export_id=started.id)
        ).body

    def hc() -> Any:
        return client.describe_hc_export_info(
            sm.DescribeHcExportInfoRequest(export_id=started.id)
        ).body

    first = hc()
    assert first.result_status == "exporting" and first.gmt_create == int(start_ms)
    seen, progress, info = poll(control, warning, "export_status", "success")
    assert seen == ["init", "exporting", "success"] and progress == sorted(progress)
    done = hc()
    assert done.result_status == "success" and done.total_count == info.total_count
    assert done.current_count == done.total_count and done.progress == 100

    def keep(r: Rec) -> bool:
        return r["level"] == "high" and r["status"] == 1

    want = expected(
        {**CHECKS, "records": [{**r, "password": mask(r["password"])} for r in CHECKS["records"]]},
        keep,
    )
    assert info.total_count == len(want) - 1 > 0
    assert any(row[10] and "***" in row[10] for row in want[1:]), "a masked weak password"
    assert zipped_rows(info.link) == want
    assert zipped_rows(done.link) == want


def test_warning_cleartext_and_summary(endpoint: str, control: Control) -> None:
    client = sas(endpoint)
    clear = client.export_warning(
        sm.ExportWarningRequest(type_names="weak_password", is_cleartext_pwd=1, lang="zh")
    ).body
    summary = client.export_warning(
        sm.ExportWarningRequest(is_summary_export=1, risk_levels="high,medium")
    ).body
    control.advance(60)
    info = client.describe_warning_export_info(
        sm.DescribeWarningExportInfoRequest(export_id=clear.id)
    ).body
    assert zipped_rows(info.link) == expected(
        CHECKS, lambda r: r["type_name"] == "weak_password", "zh"
    )
    info = client.describe_warning_export_info(
        sm.DescribeWarningExportInfoRequest(export_id=summary.id)
    ).body
    groups: dict[int, list[Any]] = {}
    for r in CHECKS["records"]:
        if r["level"] in ("high", "medium"):
            g = groups.setdefault(
                r["risk_id"], [r["risk_name"], r["risk_id"], r["type_name"], r["level"], 0, 0]
            )
            g[4 if r["status"] == 1 else 5] += 1
    header = [c["zh"] for c in CHECKS["summary_columns"]]
    assert zipped_rows(info.link) == [header, *groups.values()]
    assert info.total_count == len(groups)


WARNING_FILTERS: list[tuple[dict[str, Any], Callable[[Rec], bool]]] = [
    ({}, lambda r: True),
    ({"risk_levels": "low"}, lambda r: r["level"] == "low"),
    ({"status_list": "3"}, lambda r: r["status"] == 3),
    ({"status_list": "1,3", "dealed": "N"}, lambda r: r["dealed"] == "N"),
    ({"uuids": "c5a1e2b0-0003-4e6f-9a10-3000aa000003"}, lambda r: r["uuid"].endswith("000003")),
    ({"risk_ids": "101,301"}, lambda r: r["risk_id"] in (101, 301)),
    ({"risk_name": "windows"}, lambda r: "windows" in r["risk_name"].lower()),
    ({"type_name": "cis", "type_names": "weak_password"}, lambda r: r["type_name"] == "cis"),
    (
        {"type_names": "weak_password,hc_exploit"},
        lambda r: r["type_name"] in ("weak_password", "hc_exploit"),
    ),
    ({"sub_type_names": "cis_centos7"}, lambda r: r["sub_type_name"] == "cis_centos7"),
    ({"group_id": 10002}, lambda r: r["group_id"] == 10002),
    ({"strategy_id": 8001}, lambda r: r["strategy_id"] == 8001),
]


def test_warning_filters_change_total_count_as_the_fixture_says(endpoint: str) -> None:
    client = sas(endpoint)
    totals = []
    for kwargs, keep in WARNING_FILTERS:
        started = client.export_warning(sm.ExportWarningRequest(**kwargs)).body
        info = client.describe_hc_export_info(
            sm.DescribeHcExportInfoRequest(export_id=started.id)
        ).body
        want = sum(1 for r in CHECKS["records"] if keep(r))
        assert info.total_count == want, kwargs
        totals.append(want)
    assert len(set(totals)) > 4


# --- ExportSuspEvents -> DescribeSuspEventExportInfo ----------------------------------------


def test_susp_event_export_end_to_end(endpoint: str, control: Control) -> None:
    client = sas(endpoint)
    start_ms = int(control.get("/clock")["epoch"] * 1000)
    req = sm.ExportSuspEventsRequest(
        time_start="2026-12-05 00:00:00",
        time_end="2026-12-20 23:59:59",
        levels="serious,suspicious",
        dealed="N",
        lang="en",
    )
    started = client.export_susp_events(req).body
    assert started.file_name.startswith(EVENTS["file_prefix"] + "_")

    def describe() -> Any:
        return client.describe_susp_event_export_info(
            sm.DescribeSuspEventExportInfoRequest(export_id=started.id)
        ).body

    first = describe()
    assert first.type == "suspiciousEvent" and first.gmt_create == start_ms
    assert json.loads(first.properties) == {
        "Dealed": "N",
        "Lang": "en",
        "Levels": "serious,suspicious",
        "TimeEnd": "2026-12-20 23:59:59",
        "TimeStart": "2026-12-05 00:00:00",
    }
    seen, progress, info = poll(control, describe, "export_status", "success")
    assert seen == ["pending", "exporting", "success"] and progress == sorted(progress)
    assert info.gmt_modified > info.gmt_create == start_ms

    lo, hi = epoch("2026-12-05 00:00:00"), epoch("2026-12-20 23:59:59")
    want = expected(
        EVENTS,
        lambda r: (
            lo <= epoch(r["last_time"]) <= hi
            and r["level"] in ("serious", "suspicious")
            and r["dealed"] == "N"
        ),
    )
    assert info.total_count == len(want) - 1 > 0
    assert zipped_rows(info.link) == want


SUSP_FILTERS: list[tuple[dict[str, Any], Callable[[Rec], bool]]] = [
    ({}, lambda r: True),
    ({"levels": "remind"}, lambda r: r["level"] == "remind"),
    ({"status": "1"}, lambda r: r["status"] == 1),
    ({"status": "0"}, lambda r: True),
    ({"dealed": "Y"}, lambda r: r["dealed"] == "Y"),
    (
        {"parent_event_types": "Unusual logon,Web shell"},
        lambda r: r["parent_event_type"] in ("Unusual logon", "Web shell"),
    ),
    ({"name": "mining"}, lambda r: "mining" in r["name"].lower()),
    ({"remark": "on-call"}, lambda r: "on-call" in r["remark"]),
    ({"uuid": "c5a1e2b0-0006-4e6f-9a10-3000aa000006"}, lambda r: r["uuid"].endswith("000006")),
    ({"group_id": 10003}, lambda r: r["group_id"] == 10003),
    ({"id": 900007}, lambda r: r["id"] == 900007),
    ({"assets_type_list": ["container"]}, lambda r: r["asset_type"] == "container"),
    ({"cluster_id": "c8f1e2d3a4b5c6d7e8f9"}, lambda r: r["cluster_id"] == "c8f1e2d3a4b5c6d7e8f9"),
    (
        {"container_field_name": "namespace", "container_field_value": "shop"},
        lambda r: r["container"].get("namespace") == "shop",
    ),
    (
        {"time_start": "2026-12-15 00:00:00"},
        lambda r: epoch(r["last_time"]) >= epoch("2026-12-15 00:00:00"),
    ),
    # paging lists, not exports: an export holds every match
    ({"current_page": "2", "page_size": "5"}, lambda r: True),
]


def test_susp_filters_change_total_count_as_the_fixture_says(endpoint: str) -> None:
    client = sas(endpoint)
    totals = []
    for kwargs, keep in SUSP_FILTERS:
        started = client.export_susp_events(sm.ExportSuspEventsRequest(**kwargs)).body
        info = client.describe_susp_event_export_info(
            sm.DescribeSuspEventExportInfoRequest(export_id=started.id)
        ).body
        want = sum(1 for r in EVENTS["records"] if keep(r))
        assert info.total_count == want, kwargs
        totals.append(want)
    assert len(set(totals)) > 5


# --- faults, tenants, ids, the error table --------------------------------------------------

KINDS = {
    "ExportRecord": (
        lambda c: c.export_record(sm.ExportRecordRequest(export_type="exportHcWarning")),
        lambda c, i: c.describe_export_info(sm.DescribeExportInfoRequest(export_id=i)),
        "export_status",
    ),
    "ExportVul": (
        lambda c: c.export_vul(sm.ExportVulRequest(type="cve")),
        lambda c, i: c.describe_vul_export_info(sm.DescribeVulExportInfoRequest(export_id=i)),
        "export_status",
    ),
    "ExportWarning": (
        lambda c: c.export_warning(sm.ExportWarningRequest(export_type="hc_check_warning")),
        lambda c, i: c.describe_warning_export_info(
            sm.DescribeWarningExportInfoRequest(export_id=i)
        ),
        "export_status",
    ),
    "ExportWarning/Hc": (
        lambda c: c.export_warning(sm.ExportWarningRequest()),
        lambda c, i: c.describe_hc_export_info(sm.DescribeHcExportInfoRequest(export_id=i)),
        "result_status",
    ),
    "ExportSuspEvents": (
        lambda c: c.export_susp_events(sm.ExportSuspEventsRequest()),
        lambda c, i: c.describe_susp_event_export_info(
            sm.DescribeSuspEventExportInfoRequest(export_id=i)
        ),
        "export_status",
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_lifecycle_faults_apply_to_every_kind(endpoint: str, control: Control, kind: str) -> None:
    begin, describe, status = KINDS[kind]
    client = sas(endpoint)
    action = kind.split("/")[0]
    for outcome in ("fail", "stall"):
        effect: dict[str, Any] = {"type": "lifecycle", "stage": "sas_export", "outcome": outcome}
        effect.update({"reason": "quota exceeded"} if outcome == "fail" else {"seconds": 30})
        r = control.post("/faults", {"match": {"action": action}, "times": 1, "effect": effect})
        assert r.status_code in (200, 201), r.text
        export_id = begin(client).body.id
        control.advance(5)
        mid = describe(client, export_id).body
        if outcome == "fail":
            assert getattr(mid, status) == "failed" and mid.link is None
            if hasattr(mid, "message"):
                assert mid.message == "quota exceeded"
            control.advance(120)
            assert getattr(describe(client, export_id).body, status) == "failed"
        else:
            assert getattr(mid, status) == "exporting" and mid.link is None
            control.advance(5)
            assert describe(client, export_id).body.progress == mid.progress, "stalled"
            control.advance(60)
            after = describe(client, export_id).body
            assert getattr(after, status) == "success" and after.link is not None
    # the rule was used up: the next export of this kind succeeds
    export_id = begin(client).body.id
    control.advance(60)
    assert getattr(describe(client, export_id).body, status) == "success"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_ids_tenants_and_families(endpoint: str, control: Control, kind: str) -> None:
    begin, describe, _ = KINDS[kind]
    client = sas(endpoint)
    export_id = begin(client).body.id
    assert describe(client, export_id).body.id == export_id
    assert code_of(lambda: describe(client, 424242)) == ("InvalidExportId", 400)
    assert code_of(lambda: describe(sas(endpoint, DAVE), export_id)) == ("InvalidExportId", 400), (
        "another tenant's export is not visible"
    )
    assert code_of(lambda: describe(client, None)) == ("MissingExportId", 400)
    family = {"ExportWarning/Hc": "ExportWarning"}.get(kind, kind)
    for other, (_, other_describe, _) in KINDS.items():
        if {"ExportWarning/Hc": "ExportWarning"}.get(other, other) != family:
            call = partial(other_describe, client, export_id)
            assert code_of(call) == ("InvalidExportId", 400), (
                f"{other}'s info action does not see a {kind} export"
            )


def test_resource_directory_membership(endpoint: str) -> None:
    client = sas(endpoint)
    rec = client.export_record(
        sm.ExportRecordRequest(export_type="assetInstance", resource_directory_account_id=RD_MEMBER)
    ).body
    vul = client.export_vul(
        sm.ExportVulRequest(type="cve", resource_directory_account_id=RD_MEMBER)
    ).body
    susp = client.export_susp_events(
        sm.ExportSuspEventsRequest(resource_directory_account_id=RD_MEMBER)
    ).body
    assert (
        client.describe_vul_export_info(
            sm.DescribeVulExportInfoRequest(
                export_id=vul.id, resource_directory_account_id=RD_MEMBER
            )
        ).body.id
        == vul.id
    )
    for call in (
        lambda: client.export_record(
            sm.ExportRecordRequest(
                export_type="assetInstance", resource_directory_account_id=RD_STRANGER
            )
        ),
        lambda: client.describe_export_info(
            sm.DescribeExportInfoRequest(
                export_id=rec.id, resource_directory_account_id=RD_STRANGER
            )
        ),
        lambda: client.export_vul(
            sm.ExportVulRequest(type="cve", resource_directory_account_id=RD_STRANGER)
        ),
        lambda: client.describe_vul_export_info(
            sm.DescribeVulExportInfoRequest(
                export_id=vul.id, resource_directory_account_id=RD_STRANGER
            )
        ),
        lambda: client.export_susp_events(
            sm.ExportSuspEventsRequest(resource_directory_account_id=RD_STRANGER)
        ),
        # dave's tenant has its own member account, which is not one of alice's
        lambda: client.export_vul(
            sm.ExportVulRequest(type="cve", resource_directory_account_id=1777036095600001)
        ),
    ):
        assert code_of(call) == ("RdCheckNoPermission", 400)
    assert susp.id and rec.id


BAD_REQUESTS: list[tuple[str, Callable[[Any], Any], str]] = [
    ("ExportRecord", lambda c: c.export_record(sm.ExportRecordRequest()), "MissingExportType"),
    (
        "ExportRecord",
        lambda c: c.export_record(sm.ExportRecordRequest(export_type="noSuchExport")),
        "InvalidExportType",
    ),
    (
        "ExportRecord",
        lambda c: c.export_record(sm.ExportRecordRequest(export_type="user", lang="fr")),
        "InvalidLang",
    ),
    ("ExportVul", lambda c: c.export_vul(sm.ExportVulRequest()), "MissingType"),
    ("ExportVul", lambda c: c.export_vul(sm.ExportVulRequest(type="xss")), "InvalidType"),
    ("ExportVul", lambda c: c.export_vul(sm.ExportVulRequest(type="cve,sys")), "InvalidType"),
    (
        "ExportVul",
        lambda c: c.export_vul(sm.ExportVulRequest(type="cve", necessity="urgent")),
        "InvalidNecessity",
    ),
    (
        "ExportVul",
        lambda c: c.export_vul(sm.ExportVulRequest(type="cve", dealed="maybe")),
        "InvalidDealed",
    ),
    (
        "ExportVul",
        lambda c: c.export_vul(sm.ExportVulRequest(type="cve", create_ts_start=-5)),
        "InvalidCreateTsStart",
    ),
    (
        "ExportVul",
        lambda c: c.export_vul(sm.ExportVulRequest(type="app", attach_types="npm")),
        "InvalidAttachTypes",
    ),
    (
        "ExportVul",
        lambda c: c.export_vul(sm.ExportVulRequest(type="cve", group_id="web")),
        "InvalidGroupId",
    ),
    (
        "ExportWarning",
        lambda c: c.export_warning(sm.ExportWarningRequest(export_type="vul")),
        "InvalidExportType",
    ),
    (
        "ExportWarning",
        lambda c: c.export_warning(sm.ExportWarningRequest(risk_levels="critical")),
        "InvalidRiskLevels",
    ),
    (
        "ExportWarning",
        lambda c: c.export_warning(sm.ExportWarningRequest(status_list="2")),
        "InvalidStatusList",
    ),
    (
        "ExportWarning",
        lambda c: c.export_warning(sm.ExportWarningRequest(is_cleartext_pwd=2)),
        "InvalidIsCleartextPwd",
    ),
    (
        "ExportWarning",
        lambda c: c.export_warning(sm.ExportWarningRequest(risk_ids="1,x")),
        "InvalidRiskIds",
    ),
    (
        "ExportSuspEvents",
        lambda c: c.export_susp_events(sm.ExportSuspEventsRequest(time_start="yesterday")),
        "InvalidTimeStart",
    ),
    (
        "ExportSuspEvents",
        lambda c: c.export_susp_events(sm.ExportSuspEventsRequest(status="3")),
        "InvalidStatus",
    ),
    (
        "ExportSuspEvents",
        lambda c: c.export_susp_events(sm.ExportSuspEventsRequest(levels="panic")),
        "InvalidLevels",
    ),
    (
        "ExportSuspEvents",
        lambda c: c.export_susp_events(sm.ExportSuspEventsRequest(container_field_name="pod")),
        "InvalidContainerFieldName",
    ),
    (
        "ExportSuspEvents",
        lambda c: c.export_susp_events(sm.ExportSuspEventsRequest(group_id="ten")),
        "InvalidGroupId",
    ),
]


@pytest.mark.parametrize(
    "call, code",
    [(c, code) for _, c, code in BAD_REQUESTS],
    ids=[f"{a}-{c}" for a, _, c in BAD_REQUESTS],
)
def test_bad_requests_get_the_sas_error_table(
    endpoint: str, control: Control, call: Callable[[Any], Any], code: str
) -> None:
    client = sas(endpoint)
    with pytest.raises(ClientException) as exc:
        call(client)
    assert exc.value.code == code and exc.value.status_code == 400
    assert exc.value.message and exc.value.request_id


# --- the console ----------------------------------------------------------------------------


def test_console_lists_every_family_with_progress_and_links(
    endpoint: str, control: Control, emulator: Any
) -> None:
    client = sas(endpoint)
    ids = {
        "ExportRecord": client.export_record(sm.ExportRecordRequest(export_type="user")).body.id,
        "ExportVul": client.export_vul(sm.ExportVulRequest(type="emg", dealed="n")).body.id,
        "ExportWarning": client.export_warning(sm.ExportWarningRequest()).body.id,
        "ExportSuspEvents": client.export_susp_events(sm.ExportSuspEventsRequest()).body.id,
    }
    dave = sas(endpoint, DAVE).export_vul(sm.ExportVulRequest(type="sys")).body.id
    page = requests.get(f"{emulator.url}/_emulator/ui/sas/?tid=3000", timeout=10)
    assert page.status_code == 200 and 'id="nav-sas"' in page.text
    for action, export_id in ids.items():
        assert f'data-id="{export_id}" data-status="init"' in page.text
        assert f"<td>{action}</td>" in page.text
    assert f'data-id="{dave}"' not in page.text, "the tenant filter applies"
    assert "Dealed=n" in page.text and "Type=emg" in page.text
    control.advance(60)
    page = requests.get(f"{emulator.url}/_emulator/ui/sas/", timeout=10)
    for export_id in [*ids.values(), dave]:
        assert f'data-id="{export_id}" data-status="success"' in page.text
    links = [
        part.split('"')[0].replace("&amp;", "&")
        for part in page.text.split('class="download" href="')[1:]
    ]
    assert len(links) == 5
    vul_rows = expected(VULS, lambda r: r["type"] == "emg" and r["dealed"] == "n", "zh")
    zipped = [u for u in links if ".zip?" in u]
    assert len(zipped) == 4, "three families zip their workbook; ExportRecord's is bare"
    assert vul_rows in [zipped_rows(u) for u in zipped]


# --- state files ----------------------------------------------------------------------------


def test_an_older_state_opens_and_an_unwritten_file_is_written_after_restart(
    tmp_path: Any,
) -> None:
    """An ExportRecord task as the previous version stored it (no family, no filter) whose file
    was never written: after a restart on the same state file it completes with its workbook."""
    state = str(tmp_path / "state.sqlite")
    spec = RECORD_TYPES["exportHcWarning"]
    with EmulatorProcess("--clock", "manual", "--state", state) as first:
        control = Control(first.url)
        doc = control.get("/state")
        now = control.get("/clock")["epoch"]
        old = {
            "type": "exportHcWarning",
            "file_name": "health_check_export_20261101",
            "file_type": "xlsx",
            "lang": "zh",
            "total": spec["rows"],
            "fault": {},
        }
        doc["tables"]["jobs"] = [
            {
                "id": 131_999,
                "kind": "sas_export",
                "tid": 3000,
                "owner": "131999",
                "created_at": now - 100,
                "doc": json.dumps(old),
            }
        ]
        r = requests.put(f"{first.url}/_emulator/state", json=doc, timeout=30)
        assert r.status_code == 200, r.text
        info = (
            sas(first.endpoint)
            .describe_export_info(sm.DescribeExportInfoRequest(export_id=131_999))
            .body
        )
        assert info.export_status == "exporting" and info.link is None, "no file yet"
    with EmulatorProcess("--clock", "manual", "--state", state) as second:
        control = Control(second.url)
        client = sas(second.endpoint)
        for _ in range(100):
            control.advance(0.1)  # waits for due background jobs
            info = client.describe_export_info(sm.DescribeExportInfoRequest(export_id=131_999)).body
            if info.export_status == "success":
                break
        assert info.export_status == "success" and info.total_count == spec["rows"]
        assert info.file_name == "health_check_export_20261101"
        rows = sheet_rows(requests.get(info.link, timeout=10).content)
        assert rows[0] == list(spec["columns"])
        assert [[v if v is not None else "" for v in r] for r in rows[1:]] == generated(spec)
