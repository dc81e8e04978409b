// The training curve as a small inline SVG: loss per epoch (left axis) and validation accuracy (right axis).

const SVG = "http://www.w3.org/2000/svg";
const W = 320;
const H = 170;
const PAD = { left: 42, right: 46, top: 14, bottom: 30 };

function el(name, attrs = {}, parent = null, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  if (parent) parent.append(node);
  return node;
}

function range(values) {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) {
    lo -= 0.5 * (Math.abs(lo) || 1) * 0.1;
    hi += 0.5 * (Math.abs(hi) || 1) * 0.1;
  }
  return [lo, hi];
}

/**
 * @param {{epoch: number, loss: number, val_accuracy?: number|null}[]} history
 * @returns {SVGSVGElement|null} null when there is nothing to draw
 */
export function trainingChart(history) {
  const rows = (history || []).filter((h) => Number.isFinite(h.epoch) && Number.isFinite(h.loss));
  if (rows.length === 0) return null;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img" });
  const last = rows[rows.length - 1];
  const acc = rows.filter((r) => Number.isFinite(r.val_accuracy));
  const summary = `Training curve over ${rows.length} epochs: loss from ${rows[0].loss.toFixed(3)} to ${last.loss.toFixed(3)}`;
  const accText = acc.length ? `, validation accuracy ${(100 * acc[acc.length - 1].val_accuracy).toFixed(1)}%` : "";
  el("title", {}, svg, summary + accText);

  const x0 = PAD.left;
  const x1 = W - PAD.right;
  const y0 = H - PAD.bottom;
  const y1 = PAD.top;
  const [e0, e1] = rows.length > 1 ? [rows[0].epoch, last.epoch] : [rows[0].epoch - 1, rows[0].epoch + 1];
  const x = (e) => x0 + ((e - e0) / (e1 - e0)) * (x1 - x0);
  const [l0, l1] = range(rows.map((r) => r.loss));
  const yLoss = (v) => y0 - ((v - l0) / (l1 - l0)) * (y0 - y1);

  // Frame and grid.
  el("rect", { x: x0, y: y1, width: x1 - x0, height: y0 - y1, class: "chart-frame" }, svg);
  for (let i = 1; i < 4; i++) {
    const y = y1 + (i * (y0 - y1)) / 4;
    el("line", { x1: x0, x2: x1, y1: y, y2: y, class: "chart-grid" }, svg);
  }
  // Axis labels.
  el("text", { x: x0 - 6, y: y1 + 4, class: "chart-tick loss", "text-anchor": "end" }, svg, l1.toFixed(3));
  el("text", { x: x0 - 6, y: y0, class: "chart-tick loss", "text-anchor": "end" }, svg, l0.toFixed(3));
  el("text", { x: x0, y: H - 10, class: "chart-tick", "text-anchor": "middle" }, svg, String(e0));
  el("text", { x: x1, y: H - 10, class: "chart-tick", "text-anchor": "middle" }, svg, String(e1));
  el("text", { x: (x0 + x1) / 2, y: H - 6, class: "chart-axis", "text-anchor": "middle" }, svg, "epoch");

  const line = (points, cls) => {
    el("polyline", { points: points.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" "), class: cls }, svg);
    for (const [a, b] of points) el("circle", { cx: a, cy: b, r: 2.5, class: `${cls}-dot` }, svg);
  };
  line(rows.map((r) => [x(r.epoch), yLoss(r.loss)]), "chart-loss");

  if (acc.length) {
    const [a0, a1] = range(acc.map((r) => r.val_accuracy));
    const yAcc = (v) => y0 - ((v - a0) / (a1 - a0)) * (y0 - y1);
    line(acc.map((r) => [x(r.epoch), yAcc(r.val_accuracy)]), "chart-acc");
    el("text", { x: x1 + 6, y: y1 + 4, class: "chart-tick acc" }, svg, `${(100 * a1).toFixed(1)}%`);
    el("text", { x: x1 + 6, y: y0, class: "chart-tick acc" }, svg, `${(100 * a0).toFixed(1)}%`);
  }
  return svg;
}
