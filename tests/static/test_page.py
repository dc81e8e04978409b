"""The canvas page in a real browser (Debian's Chromium through Playwright) against the real server.

Digits are drawn as a person would, with mouse moves along stroke paths or touch events on a phone-sized
screen, and the test reads what the page shows: the predicted digit, the ten bars, the 28×28 preview, the
network view. Fixtures (conftest.py) start the server and fail a test that logged a console error.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from app.images import canvas_png_stream, image_bytes
from bench.sample import canvas_png

pytestmark = pytest.mark.browser

# Strokes in the pad's unit square (0,0 top left), shaped like handwritten MNIST digits.
ONE = [[(0.53, 0.16), (0.51, 0.5), (0.48, 0.85)]]
ZERO = [
    [(0.5 + 0.21 * math.sin(t / 40 * 2 * math.pi), 0.5 - 0.33 * math.cos(t / 40 * 2 * math.pi)) for t in range(42)]
]
SEVEN = [[(0.27, 0.2), (0.73, 0.2), (0.58, 0.48), (0.44, 0.84)]]
DIGITS = {1: ONE, 0: ZERO, 7: SEVEN}


def pad_box(page) -> dict:
    """The pad's box in viewport coordinates, after scrolling it into view."""
    pad = page.get_by_test_id("pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box and box["width"] > 100, box
    return box


def densify(points, step: float = 0.02):
    """Points every `step` along the polyline, as a hand moving the mouse would produce."""
    out = [points[0]]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        n = max(1, int(math.hypot(x1 - x0, y1 - y0) / step))
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return out


def wait_idle(page) -> None:
    """Until no answer is pending or in flight (the pad's data-busy, set by the page)."""
    page.wait_for_selector("[data-testid=pad][data-busy=false]", state="attached")


def draw_mouse(page, strokes) -> None:
    box = pad_box(page)
    for stroke in strokes:
        pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in densify(stroke)]
        page.mouse.move(*pts[0])
        page.mouse.down()
        for x, y in pts[1:]:
            page.mouse.move(x, y)
        page.mouse.up()
    wait_idle(page)


def draw_touch(page, strokes) -> None:
    """Touch strokes through the DevTools protocol: Chromium turns them into pointerType "touch" events."""
    box = pad_box(page)
    cdp = page.context.new_cdp_session(page)
    for stroke in strokes:
        pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in densify(stroke)]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": pts[0][0], "y": pts[0][1]}]})
        for x, y in pts[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
    wait_idle(page)


def prediction(page) -> str:
    return page.get_by_test_id("prediction").inner_text().strip()


def bar_values(page) -> list[float]:
    values = []
    for digit in range(10):
        bar = page.get_by_test_id(f"activation-{digit}")
        text = bar.locator(".bar-value").inner_text()
        assert re.fullmatch(r"[01]\.\d\d", text), f"bar {digit} shows {text!r}"
        values.append(float(bar.get_attribute("data-value")))
    return values


def network_state(page) -> list[str]:
    """The brightness of every neuron drawn in the network view."""
    return page.get_by_test_id("network").locator("circle").evaluate_all(
        "cs => cs.map(c => c.getAttribute('fill-opacity'))"
    )


def pad_ink(page) -> float:
    """The share of the pad's pixels that carry ink."""
    return page.get_by_test_id("pad").evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n / (d.length / 4); }"""
    )


def preview_ink(page) -> float:
    """The mean brightness of the 28×28 preview, 0 for a black image."""
    return page.get_by_test_id("preview").evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, 28, 28).data;
                  let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i]; return s / (255 * 784); }"""
    )


def select_model(page, name: str) -> None:
    page.get_by_test_id("model").select_option(name)
    wait_idle(page)


# ---- tests --------------------------------------------------------------------------------------------


def test_page_loads_with_everything_labelled(desktop):
    page = desktop
    assert "digitpad" in page.title()
    for testid in ("pad", "prediction", "clear", "undo", "model", "preview", "network"):
        assert page.get_by_test_id(testid).count() == 1, testid
    for digit in range(10):
        assert page.get_by_test_id(f"activation-{digit}").count() == 1
    # Buttons have names; the pad keeps the phone from scrolling and is sized for the screen's pixels.
    assert page.get_by_role("button", name="Clear").is_visible()
    assert page.get_by_role("button", name="Undo stroke").is_visible()
    pad = page.get_by_test_id("pad")
    assert pad.evaluate("c => getComputedStyle(c).touchAction") == "none"
    assert pad.evaluate("c => c.width === Math.round(c.getBoundingClientRect().width * devicePixelRatio)")
    assert page.get_by_test_id("preview").evaluate("c => getComputedStyle(c).imageRendering") == "pixelated"
    assert page.locator("link[rel=icon]").count() == 1
    # No inline scripts, handlers or styles in the markup: a CSP without 'unsafe-inline' must not break it.
    html = page.request.get(page.url).text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\s(on[a-z]+|style)\s*=", html) == []


def test_empty_canvas_says_draw_a_digit(desktop):
    page = desktop
    assert prediction(page) == ""
    assert "Draw a digit" in page.locator("#status").inner_text()
    assert page.get_by_test_id("activation-0").get_attribute("data-value") is None


@pytest.mark.parametrize("digit", [1, 0, 7])
def test_drawn_digit_is_recognised(desktop, digit):
    page = desktop
    draw_mouse(page, DIGITS[digit])
    assert prediction(page) == str(digit)
    values = bar_values(page)
    assert values.index(max(values)) == digit
    assert page.get_by_test_id(f"activation-{digit}").evaluate("e => e.classList.contains('best')")
    assert preview_ink(page) > 0.02
    assert "%" in page.locator("#confidence").inner_text()


def test_clear_and_undo(desktop):
    page = desktop
    # A seven drawn as two strokes: undo takes away the diagonal, then the bar; clear empties everything.
    draw_mouse(page, [SEVEN[0][:2], SEVEN[0][1:]])
    assert prediction(page) == "7"
    both = pad_ink(page)
    page.get_by_test_id("undo").click()
    wait_idle(page)
    assert 0 < pad_ink(page) < both * 0.6  # the diagonal, the longer stroke, is gone
    assert prediction(page) != ""  # one stroke left: still an answer
    page.get_by_test_id("undo").click()
    wait_idle(page)
    assert pad_ink(page) == 0
    assert prediction(page) == ""
    assert "Draw a digit" in page.locator("#status").inner_text()

    draw_mouse(page, ONE)
    assert prediction(page) == "1"
    page.get_by_test_id("clear").click()
    wait_idle(page)
    assert prediction(page) == ""
    assert "Draw a digit" in page.locator("#status").inner_text()
    assert preview_ink(page) == 0
    assert page.get_by_test_id("activation-1").get_attribute("data-value") is None


def test_keyboard_shortcuts(desktop):
    page = desktop
    draw_mouse(page, ZERO)
    assert prediction(page) == "0"
    page.keyboard.press("Control+z")
    wait_idle(page)
    assert prediction(page) == ""
    draw_mouse(page, ONE)
    assert prediction(page) == "1"
    page.keyboard.press("Escape")
    wait_idle(page)
    assert prediction(page) == ""
    draw_mouse(page, ONE)
    page.keyboard.press("Delete")
    wait_idle(page)
    assert prediction(page) == ""


def test_switch_models_and_compare(desktop):
    page = desktop
    draw_mouse(page, SEVEN)
    assert prediction(page) == "7"
    select_model(page, "classic")
    assert prediction(page) == "7"
    assert page.locator("#answer-model").inner_text() == "classic"
    # The classic network shows all of its 16 + 16 hidden neurons, and its model card.
    assert page.get_by_test_id("network").locator("circle").count() == 16 + 16 + 10
    assert "784 → 16 → 16 → 10" in page.locator("#model-card").inner_text()
    assert "13,002" in page.locator("#model-card").inner_text()
    assert page.locator("#model-card svg.chart polyline").count() >= 1

    page.get_by_test_id("compare").check()
    wait_idle(page)
    for name in ("classic", "default"):
        assert page.get_by_test_id(f"compare-{name}-digit").inner_text() == "7", name
    select_model(page, "default")
    assert prediction(page) == "7"
    assert page.locator("#card-model").inner_text() == "default"
    # The default averages its MLP, which the view shows, with a convolutional network; both cards say so.
    card = page.locator("#model-card").inner_text()
    assert "784 → 1024 → 1024 → 10" in card and "Averaged with\na convolutional network (784 → 3136" in card, card
    assert "Training curve of the first network" in card and "Combined" in card
    assert page.get_by_test_id("model").locator("option[value=default]").inner_text().endswith("+ convnet")
    page.get_by_test_id("compare").uncheck()
    assert page.locator("#compare-view").is_hidden()


def test_network_view_changes_as_you_draw(desktop):
    page = desktop
    empty = network_state(page)
    assert set(empty) == {"0.000"}
    box = pad_box(page)
    # Half a zero, with the button still down: the view follows the drawing live, before pointer-up.
    pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in densify(ZERO[0])]
    page.mouse.move(*pts[0])
    page.mouse.down()
    for x, y in pts[: len(pts) // 2]:
        page.mouse.move(x, y)
    page.wait_for_function("() => document.querySelector('[data-testid=network]').classList.contains('live')")
    wait_idle(page)
    half = network_state(page)
    assert half != empty
    for x, y in pts[len(pts) // 2 :]:
        page.mouse.move(x, y)
    page.mouse.up()
    wait_idle(page)
    full = network_state(page)
    assert full != half
    assert prediction(page) == "0"


def test_live_recognition_sends_one_request_at_a_time(desktop):
    """While drawing: answers arrive live, never two requests at once, and the last one sent is the final drawing."""
    page = desktop
    page.evaluate(
        """() => {
            const fetch = window.fetch;
            window.stats = { inFlight: 0, max: 0, count: 0, last: null };
            window.fetch = async (url, options) => {
                if (!String(url).includes("/api/predict")) return fetch(url, options);
                stats.count++; stats.inFlight++; stats.max = Math.max(stats.max, stats.inFlight);
                stats.last = JSON.parse(options.body).image;
                try { await new Promise((r) => setTimeout(r, 100)); return await fetch(url, options); }
                finally { stats.inFlight--; }
            };
        }"""
    )
    box = pad_box(page)
    pts = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in densify(ZERO[0], 0.01)]
    page.mouse.move(*pts[0])
    page.mouse.down()
    for x, y in pts[1:]:
        page.mouse.move(x, y)
    answered_while_drawing = prediction(page) != ""
    page.mouse.up()
    wait_idle(page)
    stats = page.evaluate("() => ({ ...stats })")
    assert stats["max"] == 1, stats["max"]
    assert 2 <= stats["count"] <= len(pts) / 2, (stats["count"], len(pts))  # the moves were coalesced
    assert answered_while_drawing
    assert prediction(page) == "0"
    # Another model asks for the drawing as it is now: the same image, byte for byte, as the last one sent.
    select_model(page, "classic")
    again = page.evaluate("() => ({ ...stats })")
    assert again["count"] == stats["count"] + 1
    assert again["last"] == stats["last"]


@pytest.mark.parametrize("layout", ["desktop", "phone"])
def test_the_drawing_is_sent_at_280_pixels_whatever_the_screen(request, layout):
    """The pad's canvas is 406×406 pixels on the desktop and 930×930 on the phone (devicePixelRatio 3); the
    server gets 280×280, drawn afresh from the strokes, for a quarter to a third of the CPU (docs/performance.md)."""
    page = request.getfixturevalue(layout)
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.post_data) if r.url.endswith("/api/predict") else None)
    (draw_touch if layout == "phone" else draw_mouse)(page, ONE)
    assert prediction(page) == "1"
    assert page.get_by_test_id("pad").evaluate("c => c.width") > 400
    sizes = [Image.open(io.BytesIO(image_bytes(json.loads(body)["image"]))).size for body in bodies]
    assert sizes and set(sizes) == {(280, 280)}, sizes


def png_writing(data: bytes) -> tuple[frozenset[int], int]:
    """How a canvas's PNG was written: the filter types of its rows, and zlib's level flag (0 for level 0-1, 1 for
    2-5, 2 for 6, 3 for 7-9; RFC 1950's FLEVEL)."""
    compressed = canvas_png_stream(data)
    assert compressed is not None, "not an 8-bit RGBA PNG of a canvas's chunks, as app.images decodes fast"
    width, height = struct.unpack(">II", data[16:24])  # IHDR's, the first chunk's, first fields
    scanlines = zlib.decompress(compressed)
    stride = 1 + 4 * width  # each row's filter type, then R, G, B, A of each pixel
    assert len(scanlines) == stride * height
    return frozenset(scanlines[row * stride] for row in range(height)), compressed[1] >> 6


def test_the_benchmarks_drawing_is_written_as_this_browser_writes_the_pads(desktop):
    """bench.sample writes its PNG as Chromium's canvas.toDataURL() does (every row filtered "Up", zlib at its
    fastest level), which decodes in about half the time Pillow's own way of writing it takes: if Chromium changes
    its encoder, the benchmarks no longer measure what visitors send."""
    page = desktop
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.post_data) if r.url.endswith("/api/predict") else None)
    draw_mouse(page, SEVEN)
    assert prediction(page) == "7"
    assert bodies
    sent = {png_writing(image_bytes(json.loads(body)["image"])) for body in bodies}
    assert sent == {(frozenset({2}), 0)}, sent
    assert png_writing(canvas_png(encoding="Chromium")) in sent


def test_first_layer_neuron_shows_its_weights(desktop):
    page = desktop
    select_model(page, "classic")
    draw_mouse(page, ONE)
    neuron = page.get_by_test_id("network").locator(".neuron.selectable").nth(3)
    neuron.click()
    caption = page.locator("#neuron-caption")
    page.wait_for_function("() => !document.querySelector('#neuron-caption').textContent.startsWith('Loading')")
    if "doesn't share" in caption.inner_text():
        pytest.skip("the server has no neuron-weights endpoint")
    assert "Neuron 3 of hidden layer 1" in caption.inner_text()
    colours = page.locator("#neuron-weights").evaluate(
        """c => { const d = c.getContext('2d').getImageData(0, 0, 28, 28).data; let red = 0, blue = 0;
                  for (let i = 0; i < d.length; i += 4) {
                    if (d[i] > d[i + 2] + 20) red++;
                    if (d[i + 2] > d[i] + 20) blue++;
                  }
                  return [red, blue]; }"""
    )
    assert colours[0] > 0 and colours[1] > 0, colours


def test_touch_drawing_on_a_phone(phone):
    page = phone
    page.evaluate(
        "() => { window.pointerTypes = new Set();"
        " document.querySelector('[data-testid=pad]').addEventListener('pointerdown',"
        " e => window.pointerTypes.add(e.pointerType)); }"
    )
    scroll_before = page.evaluate("() => window.scrollY")
    draw_touch(page, ONE)
    assert page.evaluate("() => [...window.pointerTypes]") == ["touch"]
    assert page.evaluate("() => window.scrollY") == scroll_before  # drawing did not scroll the page
    assert prediction(page) == "1"
    bar_values(page)
    pad = page.get_by_test_id("pad")
    assert pad.evaluate("c => c.width === Math.round(c.getBoundingClientRect().width * 3)")
    # Nothing sticks out sideways on a 360 px screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    page.get_by_test_id("clear").tap()
    wait_idle(page)
    assert prediction(page) == ""


def test_server_error_shows_a_readable_message(desktop):
    page = desktop
    page.console.allow("Failed to load resource")  # the browser's own line about the 500 below
    page.route(
        "**/api/predict",
        lambda route: route.fulfill(status=500, content_type="application/json", body='{"detail": "model crashed"}'),
    )
    draw_mouse(page, ONE)
    status = page.locator("#status")
    assert "server had a problem" in status.inner_text()
    assert "model crashed" in status.inner_text()
    assert prediction(page) == ""
    # The page still works once the server is back.
    page.unroute("**/api/predict")
    page.get_by_test_id("clear").click()
    draw_mouse(page, ONE)
    assert prediction(page) == "1"


def test_server_down_shows_a_readable_message(desktop):
    page = desktop
    page.console.allow("Failed to load resource")
    page.route("**/api/predict", lambda route: route.abort("connectionrefused"))
    draw_mouse(page, SEVEN)
    assert "Can't reach the server" in page.locator("#status").inner_text()
    assert prediction(page) == ""
    assert page.get_by_test_id("pad").is_visible()


@pytest.mark.parametrize("layout", ["desktop", "phone"])
def test_screenshot(request, layout, tmp_path):
    """The layouts with a digit drawn, in compare mode, saved for a person to look at.

    They land in the test's temporary folder, and are copied to $DIGITPAD_SCREENSHOTS when that is set.
    """
    page = request.getfixturevalue(layout)
    page.get_by_test_id("compare").check()
    (draw_touch if layout == "phone" else draw_mouse)(page, SEVEN)
    assert prediction(page) == "7"
    page.get_by_test_id("network").locator(".neuron.selectable").nth(2).click()
    page.wait_for_function("() => !document.querySelector('#neuron-caption').textContent.startsWith('Loading')")
    path = tmp_path / f"{layout}.png"
    page.screenshot(path=path, full_page=True)
    assert path.stat().st_size > 10_000
    if os.environ.get("DIGITPAD_SCREENSHOTS"):
        target = Path(os.environ["DIGITPAD_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
