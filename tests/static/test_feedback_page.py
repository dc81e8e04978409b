"""The page's "Was it a 7?" row in a real browser: confirm or correct an answer with one tap, see it saved and
counted, read the errors, and find nothing of it on a server with feedback turned off.

The session's server keeps drawings in a temporary folder (conftest.py); other tests share it, so the
counts are compared before and after, never against fixed numbers.
"""

from __future__ import annotations

import json

import pytest

from tests.static.conftest import DESKTOP, PHONE, _open
from tests.static.test_page import ONE, SEVEN, ZERO, draw_mouse, draw_touch, prediction, wait_idle

pytestmark = pytest.mark.browser


def server_stats(page) -> dict:
    response = page.request.get(page.url.rstrip("/") + "/api/feedback/stats")
    assert response.status == 200, response.text()
    return response.json()


def shown_total(page) -> int:
    """The count the summary panel shows, once it has shown one."""
    summary = page.get_by_test_id("feedback-summary")
    page.wait_for_function("() => document.querySelector('[data-testid=feedback-summary]').dataset.total")
    return int(summary.get_attribute("data-total"))


def saved(page) -> None:
    page.wait_for_function(
        "() => document.querySelector('[data-testid=feedback-status]').textContent.startsWith('Saved')"
    )


def answered(page) -> str:
    """Wait until the save the page started has an answer; the status line it shows."""
    page.wait_for_function("() => document.querySelector('[data-testid=feedback-status]').textContent !== 'Saving…'")
    return page.get_by_test_id("feedback-status").inner_text()


def test_tap_the_right_digit_saves_the_drawing(desktop):
    page = desktop
    row = page.get_by_test_id("feedback")
    before, total = server_stats(page), shown_total(page)
    assert row.is_hidden()  # nothing to confirm yet
    predicted: list[str] = []
    page.on("request", lambda r: predicted.append(r.post_data) if r.url.endswith("/api/predict") else None)
    draw_mouse(page, ONE)
    assert prediction(page) == "1"
    assert row.is_visible()
    assert page.locator("#feedback-question").inner_text() == "Was it a 1?"
    drawn = json.loads(predicted[-1])["image"]  # the finished drawing, as the page sent it

    with page.expect_request("**/api/feedback") as sent:
        page.get_by_test_id("feedback-label-7").click()  # "no: that was a 7"
    saved(page)
    body = json.loads(sent.value.post_data)
    assert body == {"image": drawn, "label": 7, "predicted": 1, "model": "default"}  # the drawing the answer read
    status = page.get_by_test_id("feedback-status")
    assert status.inner_text() == "Saved — thank you!"
    assert status.get_attribute("aria-live") == "polite"
    assert page.locator("#feedback-question").inner_text() == "It was a 7, not a 1."
    # One tap, one row: the buttons rest until the next drawing.
    assert page.get_by_test_id("feedback-label-7").is_disabled() and page.get_by_test_id("feedback-yes").is_disabled()

    page.wait_for_function(
        f"() => Number(document.querySelector('[data-testid=feedback-summary]').dataset.total) > {total}"
    )
    after = server_stats(page)
    assert after["total"] == before["total"] + 1 == shown_total(page)
    assert after["per_label"][7] == before["per_label"][7] + 1
    summary = page.get_by_test_id("feedback-summary").inner_text()
    assert summary.startswith(f"Your corrections: {after['total']:,} drawing") and "the network was right on" in summary

    # A new drawing asks again; clearing the pad takes the question away.
    page.get_by_test_id("clear").click()
    wait_idle(page)
    assert row.is_hidden()
    draw_mouse(page, SEVEN)
    assert page.locator("#feedback-question").inner_text() == "Was it a 7?"
    assert page.get_by_test_id("feedback-label-7").is_enabled()
    assert page.get_by_test_id("feedback-status").inner_text() == ""


def test_confirm_with_the_keyboard(desktop):
    page = desktop
    before = server_stats(page)
    draw_mouse(page, ZERO)
    assert prediction(page) == "0"
    yes = page.get_by_test_id("feedback-yes")
    assert yes.get_attribute("aria-label") == "Yes, it was a 0"
    page.get_by_test_id("clear").focus()
    page.keyboard.press("Tab")  # Clear is the pad panel's last control; the row's ✓ comes after it
    assert yes.evaluate("b => b === document.activeElement && getComputedStyle(b).outlineStyle === 'solid'")
    page.keyboard.press("Enter")
    saved(page)
    after = server_stats(page)
    assert after["per_label"][0] == before["per_label"][0] + 1
    assert after["predictions"]["default"] == before.get("predictions", {}).get("default", 0) + 1
    assert page.locator("#feedback-question").inner_text() == "It was a 0."


def test_saving_unavailable_is_said_and_can_be_retried(desktop):
    page = desktop
    page.console.allow("Failed to load resource")  # the browser's own line about the 503 below
    detail = '{"detail": "database is locked"}'
    page.route("**/api/feedback", lambda route: route.fulfill(status=503, content_type="application/json", body=detail))
    draw_mouse(page, ONE)
    page.get_by_test_id("feedback-label-1").click()
    assert answered(page).startswith("Saving is unavailable right now")
    assert "error" in page.get_by_test_id("feedback-status").get_attribute("class")
    assert prediction(page) == "1"  # the answer and the drawing stay
    page.unroute("**/api/feedback")
    page.get_by_test_id("feedback-label-1").click()  # the buttons are back for another try
    saved(page)


def test_a_refused_drawing_shows_the_servers_reason(desktop):
    page = desktop
    page.console.allow("Failed to load resource")
    body = '{"detail": "the drawing has no ink"}'
    page.route("**/api/feedback", lambda route: route.fulfill(status=422, content_type="application/json", body=body))
    draw_mouse(page, SEVEN)
    page.get_by_test_id("feedback-yes").click()
    assert "the drawing has no ink" in answered(page)


def test_phone_row_fits_and_taps(phone):
    page = phone
    before = server_stats(page)
    draw_touch(page, ONE)
    assert prediction(page) == "1"
    digits = page.locator("#feedback-digits")
    assert digits.is_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    box = page.get_by_test_id("feedback-label-9").bounding_box()
    assert box and box["width"] >= 40 and box["height"] >= 40  # a finger's size
    page.get_by_test_id("feedback-yes").tap()
    saved(page)
    assert server_stats(page)["per_label"][1] == before["per_label"][1] + 1


def test_no_row_when_the_server_has_feedback_off(browser, base_url_feedback_off):
    context, page, console = _open(browser, base_url_feedback_off, DESKTOP)
    console.allow("Failed to load resource")  # the 404 of /api/feedback/stats, which is how the page learns it
    try:
        page.wait_for_load_state("networkidle")
        draw_mouse(page, ONE)
        assert prediction(page) == "1"
        assert page.get_by_test_id("feedback").is_hidden()
        assert page.get_by_test_id("feedback-summary").is_hidden()
        assert page.request.get(base_url_feedback_off + "/api/feedback/stats").status == 404
    finally:
        context.close()
    assert not console.unexpected(), console.unexpected()


@pytest.mark.parametrize("options", [PHONE], ids=["phone"])
def test_screenshot_with_the_row(browser, base_url, options, tmp_path):
    """The phone layout with the row on show, for a person to look at (copied to $DIGITPAD_SCREENSHOTS if set)."""
    import os
    import shutil
    from pathlib import Path

    context, page, console = _open(browser, base_url, options)
    try:
        draw_touch(page, SEVEN)
        page.get_by_test_id("feedback").scroll_into_view_if_needed()
        path = tmp_path / "phone-feedback.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000
        if os.environ.get("DIGITPAD_SCREENSHOTS"):
            Path(os.environ["DIGITPAD_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(os.environ["DIGITPAD_SCREENSHOTS"]) / path.name)
    finally:
        context.close()
    assert not console.unexpected(), console.unexpected()
