"""HTTP checks against a running digitpad container (standard library only).

    python3 docker/smoke_test.py http://127.0.0.1:8000 [--quick]

Prints one ``PASS name`` or ``FAIL name: why`` line per check and exits with the number of failures
(capped at 100). ``--quick`` runs only the health check and one prediction (used for extra containers,
e.g. the read-only one). Called by docker/test.sh.
"""

from __future__ import annotations

import base64
import json
import random
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib

TIMEOUT = 15


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def post_json(url: str, body: object) -> tuple[int, object]:
    status, _, raw = request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw[:200]


def png(width: int, height: int, rgba: bytes) -> bytes:
    """Encode 8-bit RGBA pixels (row-major) as a PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + rgba[y * width * 4 : (y + 1) * width * 4] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def canvas_one(size: int = 280) -> bytes:
    """What the page sends for a drawn '1': black ink on a transparent canvas, as canvas.toDataURL() does."""
    ink, blank = b"\x00\x00\x00\xff", b"\x00\x00\x00\x00"
    x0, x1, y0, y1 = size // 2 - 12, size // 2 + 12, size // 5, size - size // 5
    rows = []
    for y in range(size):
        row = [blank] * size
        if y0 <= y < y1:
            row[x0:x1] = [ink] * (x1 - x0)
        rows.append(b"".join(row))
    return png(size, size, b"".join(rows))


def noise_png(side: int = 700) -> bytes:
    """An uncompressed RGB PNG of random noise: about 1.5 MB, under the 2 MiB body limit but over the
    1 MiB that multipart parsing keeps in memory, so the upload is spooled to a temporary file."""
    rng = random.Random(5)
    rows = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")


def pixels_one() -> list[float]:
    """An MNIST-like '1' as 784 values in [0, 1]: a vertical stroke, 3 px wide, 20 px tall, centred."""
    return [1.0 if 13 <= x <= 15 and 4 <= y < 24 else 0.0 for y in range(28) for x in range(28)]


def is_prediction(body: object) -> str | None:
    """None if ``body`` is a prediction with a digit, else what is wrong with it."""
    if not isinstance(body, dict):
        return f"not a JSON object: {body!r}"
    digit, activations = body.get("digit"), body.get("activations")
    if not isinstance(digit, int) or not 0 <= digit <= 9:
        return f"digit is {digit!r}"
    if not isinstance(activations, list) or len(activations) != 10:
        return f"activations is {activations!r}"
    return None


class Checks:
    def __init__(self) -> None:
        self.failed = 0

    def run(self, name: str, fn) -> None:
        try:
            problem = fn()
        except Exception as e:  # noqa: BLE001 - any exception is a failed check, reported with its type
            problem = f"{type(e).__name__}: {e}"
        if problem:
            self.failed += 1
            print(f"FAIL {name}: {problem}", flush=True)
        else:
            print(f"PASS {name}", flush=True)


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    base = (args[0] if args else "http://127.0.0.1:8000").rstrip("/")
    label = f"[{base.split('//', 1)[-1]}]"
    checks = Checks()

    def healthz() -> str | None:
        status, _, raw = request(base + "/healthz")
        body = json.loads(raw)
        if status != 200 or body.get("status") != "ok":
            return f"{status} {body}"
        return None

    def page() -> str | None:
        status, headers, raw = request(base + "/")
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
        text = raw.decode("utf-8", "replace").lower()
        if status != 200 or "text/html" not in content_type or "<html" not in text:
            return f"{status} {content_type!r} {text[:80]!r}"
        return None

    def models() -> str | None:
        status, _, raw = request(base + "/api/models")
        body = json.loads(raw)
        if status != 200 or not isinstance(body, list) or not body:
            return f"{status} {raw[:200]!r}"
        names = [m.get("name") for m in body]
        print(f"  models in the image: {names}")
        return None

    def predict_pixels() -> str | None:
        status, body = post_json(base + "/api/predict", {"pixels": pixels_one()})
        problem = is_prediction(body) if status == 200 else f"{status} {body}"
        if not problem:
            print(f"  pixels of a '1' -> digit {body['digit']} (confidence {body.get('confidence')})")
        return problem

    def predict_png() -> str | None:
        data_url = "data:image/png;base64," + base64.b64encode(canvas_one()).decode()
        status, body = post_json(base + "/api/predict", {"image": data_url})
        problem = is_prediction(body) if status == 200 else f"{status} {body}"
        if not problem:
            print(f"  PNG data URL of a drawn '1' -> digit {body['digit']} (confidence {body.get('confidence')})")
        return problem

    def predict_empty() -> str | None:
        blank = png(28, 28, b"\x00\x00\x00\x00" * 28 * 28)
        data_url = "data:image/png;base64," + base64.b64encode(blank).decode()
        status, body = post_json(base + "/api/predict", {"image": data_url})
        if status != 200 or body.get("digit") is not None or body.get("empty") is not True:
            return f"{status} {body}"
        return None

    def upload(image: bytes) -> str | None:
        boundary = uuid.uuid4().hex
        data = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="drawing.png"\r\n'
                "Content-Type: image/png\r\n\r\n"
            ).encode()
            + image
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        status, _, raw = request(base + "/api/predict/file", data, headers)
        body = json.loads(raw)
        return is_prediction(body) if status == 200 else f"{status} {body}"

    def bad_input() -> str | None:
        status, body = post_json(base + "/api/predict", {"image": "data:image/png;base64,bm90IGFuIGltYWdl"})
        if not 400 <= status < 500 or not isinstance(body, dict) or "detail" not in body:
            return f"expected a 4xx with a detail, got {status} {body}"
        return None

    checks.run(f"GET /healthz is 200 ok {label}", healthz)
    if not quick:
        checks.run(f"GET / serves the page HTML {label}", page)
        checks.run(f"GET /api/models lists the models in the image {label}", models)
    checks.run(f"POST /api/predict with pixels returns a digit {label}", predict_pixels)
    checks.run(f"POST /api/predict with a PNG data URL returns a digit {label}", predict_png)
    if not quick:
        checks.run(f"POST /api/predict with a blank drawing is empty {label}", predict_empty)
        checks.run(f"POST /api/predict/file (multipart PNG) returns a digit {label}", lambda: upload(canvas_one()))
        checks.run(f"POST /api/predict with a non-image is a 4xx with detail {label}", bad_input)
    checks.run(f"POST /api/predict/file of 1.5 MB (spooled to a temporary file) {label}", lambda: upload(noise_png()))
    return min(checks.failed, 100)


def wait_until_up(base: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if request(base.rstrip("/") + "/healthz")[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


if __name__ == "__main__":
    if "--wait" in sys.argv:  # docker/smoke_test.py URL --wait SECONDS: exit 0 once /healthz answers 200
        i = sys.argv.index("--wait")
        sys.exit(0 if wait_until_up(sys.argv[1], float(sys.argv[i + 1])) else 1)
    sys.exit(main())
