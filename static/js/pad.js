// The drawing pad: pointer input (mouse, pen, touch) turned into smooth round strokes on a canvas.
//
// Strokes are kept as lists of points in the pad's own unit square, so the drawing survives a resize
// and is redrawn crisply at any devicePixelRatio. The canvas keeps a transparent background: the ink's
// alpha is what the server reads, and CSS paints the black square behind it.
//
// What is sent is drawn afresh at EXPORT_SIDE pixels, not copied from the screen's canvas: the pad on a
// laptop at devicePixelRatio 2 is 812×812 pixels, whose PNG costs the server 3.6 times the CPU of a
// 280×280 one (docs/performance.md), and the network sees 28×28 pixels either way.

// Stroke width as a fraction of the pad's side: a digit that fills most of the pad then has strokes
// about as thick, relative to its height, as MNIST's.
const LINE_WIDTH = 0.062;
const INK = "#ffffff";
const EXPORT_SIDE = 280; // pixels on the longer side of the image sent: 10× MNIST's 28

export class Pad {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onChange?: (reason: string) => void, onStrokeEnd?: () => void}} callbacks
   */
  constructor(canvas, { onChange = () => {}, onStrokeEnd = () => {} } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.onStrokeEnd = onStrokeEnd;
    this.strokes = [];
    this.current = null; // the stroke being drawn, also the last entry of this.strokes
    this.pointerId = null;
    this.exportCanvas = document.createElement("canvas"); // reused: live recognition exports often

    canvas.addEventListener("pointerdown", (e) => this.#down(e));
    canvas.addEventListener("pointermove", (e) => this.#move(e));
    canvas.addEventListener("pointerup", (e) => this.#up(e));
    canvas.addEventListener("pointercancel", (e) => this.#up(e));
    canvas.addEventListener("lostpointercapture", (e) => this.#up(e));
    // A long press on a phone should not open a context menu over the drawing.
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());

    new ResizeObserver(() => this.#resize()).observe(canvas);
    this.#watchPixelRatio();
    this.#resize();
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  clear() {
    if (this.isEmpty && !this.current) return;
    this.#release();
    this.strokes = [];
    this.#render();
    this.onChange("clear");
  }

  undo() {
    if (this.isEmpty) return;
    this.#release();
    this.strokes.pop();
    this.#render();
    this.onChange("undo");
  }

  /** The drawing as a PNG data URL, EXPORT_SIDE pixels on its longer side: white ink on a transparent background. */
  toDataURL() {
    const { width, height } = this.canvas;
    const scale = EXPORT_SIDE / Math.max(width, height);
    const out = this.exportCanvas;
    out.width = Math.max(1, Math.round(width * scale)); // setting the size also clears it
    out.height = Math.max(1, Math.round(height * scale));
    paint(out.getContext("2d"), this.strokes, out.width, out.height);
    return out.toDataURL("image/png");
  }

  #release() {
    if (this.pointerId !== null && this.canvas.hasPointerCapture(this.pointerId)) {
      this.canvas.releasePointerCapture(this.pointerId);
    }
    this.pointerId = null;
    this.current = null;
  }

  #point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [(e.clientX - rect.left) / rect.width, (e.clientY - rect.top) / rect.height];
  }

  #down(e) {
    if (this.pointerId !== null) return; // one finger draws; a second one is ignored
    if (e.pointerType === "mouse" && e.button !== 0) return;
    e.preventDefault();
    this.canvas.focus({ preventScroll: true });
    this.pointerId = e.pointerId;
    this.canvas.setPointerCapture(e.pointerId);
    this.current = [this.#point(e)];
    this.strokes.push(this.current);
    this.#render();
    this.onChange("draw");
  }

  #move(e) {
    if (e.pointerId !== this.pointerId || !this.current) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) this.current.push(this.#point(ev));
    this.#render();
    this.onChange("draw");
  }

  #up(e) {
    if (e.pointerId !== this.pointerId) return;
    const drew = this.current !== null;
    this.#release();
    if (drew) this.onStrokeEnd();
  }

  #resize() {
    const dpr = window.devicePixelRatio || 1;
    const rect = this.canvas.getBoundingClientRect();
    const width = Math.max(1, Math.round(rect.width * dpr));
    const height = Math.max(1, Math.round(rect.height * dpr));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
      this.#render();
    }
  }

  /** Re-render when the window moves to a screen of another pixel density (no resize event for that). */
  #watchPixelRatio() {
    const query = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    query.addEventListener(
      "change",
      () => {
        this.#resize();
        this.#watchPixelRatio();
      },
      { once: true },
    );
  }

  #render() {
    paint(this.ctx, this.strokes, this.canvas.width, this.canvas.height);
  }
}

/** Clear a w×h canvas and draw the strokes (points in the unit square) on it, the pen scaled to its size. */
function paint(ctx, strokes, w, h) {
  ctx.clearRect(0, 0, w, h);
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = INK;
  ctx.fillStyle = INK;
  ctx.lineWidth = LINE_WIDTH * Math.min(w, h);
  for (const stroke of strokes) drawStroke(ctx, stroke.map(([x, y]) => [x * w, y * h]), ctx.lineWidth);
}

/** A smooth stroke: quadratic curves through the midpoints of successive points; a dot for a single tap. */
function drawStroke(ctx, pts, width) {
  if (pts.length === 1) {
    ctx.beginPath();
    ctx.arc(pts[0][0], pts[0][1], width / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(pts[0][0], pts[0][1]);
  for (let i = 1; i < pts.length - 1; i++) {
    const [x, y] = pts[i];
    const [nx, ny] = pts[i + 1];
    ctx.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
  }
  const last = pts[pts.length - 1];
  ctx.lineTo(last[0], last[1]);
  ctx.stroke();
}
