"""The console's page of a data-change ticket in a real headless Chromium, JavaScript off: the
precheck steps, the SQL, approve and reject as forms, the affected rows and the backup link once
it ran, and the lifecycle diagram of the data-change table. Expected counts come from sqlite3
on the fixture, never from the emulator."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from alibabacloud_dms_enterprise20181101 import models as dm

from emulator.testing.flows import fixture_db
from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import ERIN, dms

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
WHERE = "id % 8 = 3 and id < 200"
SQL = f"update employees set title = 'browser' where {WHERE}"
STEPS = ["SQL_PARSE", "SQL_TYPE_CHECK", "PERMISSION_CHECK", "ROW_CHECK"]


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "Debian's chromium is needed: apt-get install chromium (see .ci/run)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": 1280, "height": 900}
        )
        yield context.new_page()
        context.close()
        browser.close()


def create(client, sql: str, estimate: int) -> int:  # type: ignore[no-untyped-def]
    body = client.create_data_correct_order(
        dm.CreateDataCorrectOrderRequest(
            comment="browser",
            param=dm.CreateDataCorrectOrderRequestParam(
                db_item_list=[dm.CreateDataCorrectOrderRequestParamDbItemList(db_id=27001)],
                sql_type="TEXT",
                exec_sql=sql,
                estimate_affect_rows=estimate,
                rollback_sql="update employees set title = null where false",
            ),
        )
    ).body
    assert body.success, body.to_map()
    return int(body.create_order_result[0])


def advance(page, seconds: int = 10) -> None:  # type: ignore[no-untyped-def]
    page.fill("input[name=seconds]", str(seconds))
    page.click("#advance")


def test_data_change_ticket_page(page) -> None:  # type: ignore[no-untyped-def]
    rows = fixture_db("hr").execute(f"select count(*) from employees where {WHERE}").fetchone()[0]
    assert rows > 0
    with EmulatorProcess("--clock", "manual") as proc:
        ui = f"{proc.url}/_emulator/ui"
        client = dms(proc.endpoint, ERIN)  # a DBA of tenant 4000 (manual approval)
        order_id = create(client, SQL, rows)

        page.goto(f"{ui}/tickets/{order_id}?refresh=0")
        assert SQL in page.inner_text("#sql")
        assert "where false" in page.inner_text("#rollback-sql")
        advance(page)
        assert page.inner_text("#status") == "precheck_success", page.inner_text("#precheck-steps")
        steps = page.locator("#precheck-steps tr[data-step]")
        assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == STEPS
        assert all("SUCCESS" in steps.nth(i).inner_text() for i in range(steps.count()))
        assert f"\t{rows}\t" in page.inner_text("#precheck-sql")
        assert page.inner_text("#estimate") == str(rows)
        assert page.inner_text("#affected") == "—" and page.locator("#backup").count() == 0

        page.click("#approve")  # submits, then approves as the tenant's ADMIN
        assert f"Ticket {order_id} approved" in page.inner_text("#flash")
        assert page.inner_text("#status") == "approved"
        assert page.locator("#approve").count() == 0, "decided: no more buttons"
        page.screenshot(path=str(ARTIFACTS / "ticket-datachange-approved.png"), full_page=True)

        ran = client.execute_data_correct(
            dm.ExecuteDataCorrectRequest(
                order_id=order_id, action_detail={"backupData": True, "transaction": True}
            )
        ).body
        assert ran.success, ran.to_map()
        for _ in range(5):
            advance(page)
            if page.inner_text("#status") in ("success", "fail"):
                break
        assert page.inner_text("#status") == "success"
        assert page.inner_text("#job-status") == "SUCCESS"
        assert page.inner_text("#affected") == str(rows)
        href = page.get_attribute("#backup", "href")
        assert href and "Signature=" in href
        backup = requests.get(href, timeout=30)
        assert backup.status_code == 200 and "employees" in backup.text.lower()
        svg = "svg.lifecycle"
        assert page.locator(f"{svg} g.state.current[data-state='success']").count() == 1
        for state in ("precheck", "precheck_success", "toaudit", "approved", "processing"):
            assert page.locator(f"{svg} g.state.taken[data-state='{state}']").count() == 1
        page.screenshot(path=str(ARTIFACTS / "ticket-datachange.png"), full_page=True)

        gone = "id % 8 = 5 and id > 4900"
        doomed = fixture_db("hr").execute(f"select count(*) from salaries where {gone}").fetchone()
        other = create(client, f"delete from salaries where {gone}", doomed[0])
        page.goto(f"{ui}/tickets/{other}?refresh=0")
        advance(page)
        approve = f"{ui}/tickets/{other}/approve"
        evil = requests.post(approve, data={}, headers={"Origin": "http://evil.example"})
        assert evil.status_code == 403, "another site's form cannot approve"
        page.goto(f"{ui}/tickets/{other}?refresh=0")
        assert page.inner_text("#status") == "precheck_success"
        page.click("#reject")
        assert f"Ticket {other} rejected" in page.inner_text("#flash")
        assert page.inner_text("#status") == "reject"
        assert page.inner_text("#job-status") == "PENDING" and page.inner_text("#affected") == "—"
        assert page.locator(f"{svg} g.state.current[data-state='reject']").count() == 1
        refused = client.execute_data_correct(dm.ExecuteDataCorrectRequest(order_id=other)).body
        assert refused.success is False, "a rejected ticket never runs"
