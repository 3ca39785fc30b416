"""The web console in a real headless Chromium (Debian's package), JavaScript disabled: see a
ticket appear, approve it, watch it reach EXPORT_SUCCESS on an advanced clock, add a fault and
find it in the journal. Screenshots of the main pages go to test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alibabacloud_dms_enterprise20181101 import models as dm
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from emulator.testing.process import EmulatorProcess
from emulator.testing.sdk import FRANK, dms

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, (
        "Debian's chromium is needed for the browser tests: apt-get install chromium (see .ci/run)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": 1280, "height": 900}
        )
        yield context.new_page()
        context.close()
        browser.close()


def test_console_approve_export_fault_journal(page) -> None:  # type: ignore[no-untyped-def]
    with EmulatorProcess("--clock", "manual") as proc:
        ui = f"{proc.url}/_emulator/ui"
        client = dms(proc.endpoint, FRANK)
        order_id = client.create_order(
            dm.CreateOrderRequest(
                plugin_type="DATA_EXPORT",
                comment="browser test",
                plugin_param={"dbId": 27001, "exeSQL": "select * from departments"},
            )
        ).body.create_order_result.order_ids[0]

        page.goto(f"{ui}/tickets?refresh=0")
        row = page.locator(f"#tickets tr[data-order='{order_id}']")
        assert row.count() == 1 and "PRE_CHECKING" in row.inner_text()
        page.screenshot(path=str(ARTIFACTS / "tickets.png"), full_page=True)

        page.goto(f"{ui}/tickets/{order_id}?refresh=0")
        page.fill("input[name=seconds]", "10")
        page.click("#advance")
        assert page.inner_text("#status") == "WAITING_APPLY_AUDIT"
        page.click("#approve")
        assert f"Ticket {order_id} approved" in page.inner_text("#flash")
        assert page.inner_text("#status") == "ENABLE_EXPORT"

        assert client.execute_data_export(
            dm.ExecuteDataExportRequest(order_id=order_id)
        ).body.success
        page.goto(f"{ui}/tickets/{order_id}?refresh=0")
        page.fill("input[name=seconds]", "30")
        page.click("#advance")
        assert page.inner_text("#status") == "EXPORT_SUCCESS"
        assert (
            page.locator("svg.lifecycle g.state.current[data-state='EXPORT_SUCCESS']").count() == 1
        )
        assert page.locator("svg.lifecycle path.edge.taken").count() == 7
        href = page.get_attribute("#download", "href")
        assert href and "Signature=" in href
        page.screenshot(path=str(ARTIFACTS / "ticket.png"), full_page=True)

        page.goto(f"{ui}/faults")
        page.fill(
            "#rule",
            '{"match": {"action": "ListOrders"}, "times": 1, '
            '"effect": {"type": "error", "code": "Throttling.User"}}',
        )
        page.click("#add-fault")
        assert "Added rule" in page.inner_text("#flash")
        assert "Throttling.User" in page.inner_text("#faults")
        page.screenshot(path=str(ARTIFACTS / "faults.png"), full_page=True)

        with pytest.raises(ThrottlingException):
            client.list_orders(dm.ListOrdersRequest())
        with pytest.raises(ClientException):
            dms(proc.endpoint, (FRANK[0], "wrong-secret")).list_user_tenants(
                dm.ListUserTenantsRequest()
            )
        page.goto(f"{ui}/requests")
        assert page.locator("#journal tr[data-code='Throttling.User'] code.fault").count() == 1
        sts = page.locator("#journal pre.sts").first.inner_text()
        assert sts.startswith("ACS3-HMAC-SHA256")
        page.screenshot(path=str(ARTIFACTS / "requests.png"), full_page=True)
        page.goto(f"{ui}/requests?code=Throttling.User")
        assert page.locator("#journal tr[data-code]").count() == 1


def _overlaps(a: dict, b: tuple[float, float, float, float]) -> bool:
    x, y, w, h = b
    return not (
        a["x"] + a["width"] <= x or x + w <= a["x"] or a["y"] + a["height"] <= y or y + h <= a["y"]
    )


def test_console_journal_parameters_text_and_diagram_labels(page) -> None:  # type: ignore[no-untyped-def]
    """The journal shows each call's parameters and answer (collapsed, JS off) and filters by a
    parameter; SQL reads as text; no arrowhead covers an edge label; the login form works."""
    token = "console-token"
    with EmulatorProcess("--clock", "manual", "--control-token", token) as proc:
        ui = f"{proc.url}/_emulator/ui"
        page.goto(f"{ui}/tickets")
        assert page.locator("#login").count() == 1, "a token-protected console asks for it"
        page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
        page.fill("#token", token)
        page.click("#log-in")
        assert page.locator("#tickets").count() == 1

        client = dms(proc.endpoint, FRANK)
        sql = "select * from departments where id < 3 and name <> 'x & y'"
        ids = [
            client.create_order(
                dm.CreateOrderRequest(
                    plugin_type="DATA_EXPORT",
                    comment=f"journal {i}",
                    plugin_param={"dbId": 27001, "exeSQL": sql},
                )
            ).body.create_order_result.order_ids[0]
            for i in range(2)
        ]
        for order_id in (ids[0], ids[0], ids[1]):
            client.get_data_export_order_detail(
                dm.GetDataExportOrderDetailRequest(order_id=order_id)
            )

        page.goto(f"{ui}/tickets/{ids[0]}?refresh=0")
        params = page.inner_text("#params")
        assert sql.replace("'", "\\'") in params or sql in params, params
        assert "\\u003c" not in page.content() and "\\u0026" not in page.content()
        labels = page.locator("svg.lifecycle text.label")
        assert labels.count() >= 8
        heads = []
        for i in range(page.locator("svg.lifecycle path.edge").count()):
            d = page.locator("svg.lifecycle path.edge").nth(i).get_attribute("d") or ""
            ex, ey = (float(v) for v in d.split("L")[1].split())
            heads.append((ex, ey))
        svg = page.locator("svg.lifecycle").bounding_box()
        assert svg
        for i in range(labels.count()):
            box = labels.nth(i).bounding_box()
            assert box
            for ex, ey in heads:  # the arrowhead: a 11 px square ending at the edge's end
                head = (svg["x"] + ex - 6, svg["y"] + ey - 11, 12, 11)
                assert not _overlaps(box, head), (labels.nth(i).text_content(), box, head)
        page.screenshot(path=str(ARTIFACTS / "ticket-text.png"), full_page=True)

        page.goto(f"{ui}/requests")
        page.fill("#param", f"OrderId={ids[0]}")
        page.click("#filter")
        rows = page.locator("#journal tr.entry")
        assert rows.count() == 2 and "GetDataExportOrderDetail" in rows.first.inner_text()
        detail = page.locator("#journal details.params").first
        assert not detail.locator("pre.value").first.is_visible(), "collapsed until opened"
        detail.locator("summary").click()
        assert f"{ids[0]}" in detail.inner_text() and "***redacted***" not in detail.inner_text()
        body = page.locator("#journal details.response").first
        body.locator("summary").click()
        assert '"RequestId"' in body.inner_text()
        page.screenshot(path=str(ARTIFACTS / "requests-parameters.png"), full_page=True)

        page.goto(f"{ui}/requests?action=CreateOrder")
        first = page.locator("#journal details.params").first
        first.locator("summary").click()
        assert "id < 3" in first.inner_text() and "\\u003c" not in first.inner_text()
