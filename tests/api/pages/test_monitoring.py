"""防返贫监测 page in this process, on both backends: the cases of the visitor's townships
(overdue first, no names), the thresholds statement, the reports' links that work with the
browser's session, and no page for a viewer."""

from __future__ import annotations

import re

from tests.api.pages.test_pages import browser_session


def test_the_monitoring_page_lists_cases_overdue_first_and_links_reports(scratch):
    leader = browser_session(scratch, "t_leader")
    page = leader.get("/monitoring")
    assert page.status_code == 200 and 'href="/monitoring"' in page.text
    codes = re.findall(r'data-code="(JC\d{4}-\d{4})"', page.text)
    overdue = re.findall(r'class="table-danger" data-code="([^"]+)"', page.text)
    assert len(codes) >= 14 and overdue and codes[:len(overdue)] == overdue
    assert "未设置 ATLAS_MONITOR_INCOME_LINE_YUAN" in page.text
    only_late = leader.get("/monitoring?overdue=true").text
    assert re.findall(r'data-code="([^"]+)"', only_late) == overdue
    report = re.search(r'href="(/api/monitoring/reports/posting\?format=xlsx)"', page.text).group(1)
    assert leader.get(report).status_code == 200  # the session cookie reads the API's download
    scoped = browser_session(scratch, "t_scoped").get("/monitoring").text
    assert set(re.findall(r"<td>([^<]+(?:镇|乡))</td>", scoped)) == {"兴仁镇"}
    assert browser_session(scratch, "t_viewer").get("/monitoring").status_code == 403
