// "Inside the network", after 3Blue1Brown: the input image, then every hidden layer and the outputs as
// columns of neurons whose brightness is their activation, joined by lines that light up with the signal.
// Layers wider than SHOWN neurons show their SHOWN most active ones. Neurons of the first hidden layer are
// buttons: selecting one asks for its incoming weights.

import { clearImage, drawInput } from "./images.js";

const SVG = "http://www.w3.org/2000/svg";
const SHOWN = 16;
const WIDE = 560; // the drawing's width in its own units; narrow boxes get a narrower, taller-scaled one
const NARROW = 400;
const NARROW_BELOW = 520; // css px of the view's box
const HEIGHT = 400;
const TOP = 62; // room for the column titles
const BOTTOM = 12;
const RADIUS = 8.5;
const BOUNDED = new Set(["sigmoid", "softmax"]); // activations already in [0, 1]

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.append(node);
  return node;
}

/** Brightness in [0, 1]: bounded activations as they are, others relative to the layer's largest. */
function brightness(values, activation) {
  if (BOUNDED.has(activation)) return values.map((v) => Math.min(1, Math.max(0, v)));
  const top = Math.max(1e-9, ...values.map((v) => Math.abs(v)));
  return values.map((v) => Math.min(1, Math.max(0, v / top)));
}

/** Indices of the `count` largest values, in index order so the column reads top to bottom. */
function mostActive(values, count) {
  if (values.length <= count) return values.map((_, i) => i);
  return values
    .map((v, i) => [v, i])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, count)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

export class NetworkView {
  /**
   * @param {HTMLElement} container
   * @param {{onSelect?: (neuron: number) => void}} options onSelect gets a first-layer neuron's index
   */
  constructor(container, { onSelect = () => {} } = {}) {
    this.container = container;
    this.onSelect = onSelect;
    this.selected = null;
    this.input = document.createElement("canvas");
    this.input.className = "network-input";
    this.input.setAttribute("role", "img");
    this.input.setAttribute("aria-label", "Input layer: the 784 pixels the network reads");
    const inputBox = document.createElement("div");
    inputBox.className = "network-input-box";
    const inputTitle = document.createElement("span");
    inputTitle.className = "network-input-title";
    inputTitle.textContent = "input";
    inputBox.append(inputTitle, this.input);
    this.width = container.clientWidth && container.clientWidth < NARROW_BELOW ? NARROW : WIDE;
    this.last = null; // the answer on show, to redraw it after a change of layout
    this.svg = el("svg", {
      viewBox: `0 0 ${this.width} ${HEIGHT}`,
      class: "network-svg",
      role: "group",
      "aria-label": "Hidden layers and outputs",
    });
    container.append(inputBox, this.svg);
    clearImage(this.input);
    this.setModel({ name: "default", layers: [784, SHOWN, SHOWN, 10], activations: [] });
    new ResizeObserver(() => this.#fit()).observe(container);
  }

  /** Switch between the wide and the narrow drawing as the view's box changes size. */
  #fit() {
    const width = this.container.clientWidth < NARROW_BELOW ? NARROW : WIDE;
    if (width === this.width || !this.container.clientWidth) return;
    this.width = width;
    this.svg.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
    const { last, selected } = this;
    this.setModel(this.card);
    this.selected = selected;
    if (last) this.show(...last);
  }

  /** Lay out the columns for a model card ({name, layers, activations}). */
  setModel(card) {
    this.card = card;
    this.selected = null;
    const sizes = card.layers.slice(1); // hidden layers then outputs
    this.svg.replaceChildren();
    const narrow = this.width === NARROW;
    const xs = sizes.map((_, i) => 70 + (i * (this.width - 140)) / Math.max(1, sizes.length - 1));
    const edgeGroup = el("g", { class: "edges" }, this.svg);
    const nodeGroup = el("g", { class: "nodes" }, this.svg);
    this.columns = sizes.map((size, l) => {
      const isOutput = l === sizes.length - 1;
      const count = Math.min(size, SHOWN);
      const x = xs[l];
      const step = (HEIGHT - TOP - BOTTOM) / count;
      const ys = Array.from({ length: count }, (_, i) => TOP + step * (i + 0.5));
      const title = el("text", { x, y: 20, class: "col-title", "text-anchor": "middle" }, this.svg);
      title.textContent = isOutput ? "output" : `hidden ${l + 1}`;
      const sub = el("text", { x, y: 44, class: "col-sub", "text-anchor": "middle" }, this.svg);
      if (size <= SHOWN) sub.textContent = `${size} neurons`;
      else sub.textContent = narrow ? `top ${SHOWN} of ${size}` : `${SHOWN} most active of ${size}`;
      const nodes = ys.map((y, i) => {
        const first = l === 0;
        const g = el("g", { class: first ? "neuron selectable" : "neuron" }, nodeGroup);
        const circle = el("circle", { cx: x, cy: y, r: RADIUS, "fill-opacity": 0 }, g);
        if (isOutput) {
          const label = el("text", { x: x + 18, y: y + 4, class: "out-label" }, g);
          label.textContent = String(i);
        }
        if (first) {
          g.setAttribute("tabindex", "0");
          g.setAttribute("role", "button");
          g.addEventListener("click", () => this.#select(g));
          g.addEventListener("keydown", (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              this.#select(g);
            }
          });
        }
        return { g, circle, x, y, index: i };
      });
      return { nodes, size, activation: card.activations[l] || "", isOutput };
    });
    // Lines between neighbouring columns, and a fan from the input image into the first hidden layer.
    this.edges = [];
    const fan = Array.from({ length: 7 }, (_, i) => TOP + ((HEIGHT - TOP - BOTTOM) * (i + 0.5)) / 7);
    for (const dst of this.columns[0].nodes) {
      for (const y of fan) {
        const line = el("line", { x1: 0, y1: y, x2: dst.x - RADIUS, y2: dst.y }, edgeGroup);
        this.edges.push({ line, src: null, dst });
      }
    }
    for (let l = 1; l < this.columns.length; l++) {
      for (const src of this.columns[l - 1].nodes) {
        for (const dst of this.columns[l].nodes) {
          const line = el("line", { x1: src.x + RADIUS, y1: src.y, x2: dst.x - RADIUS, y2: dst.y }, edgeGroup);
          this.edges.push({ line, src, dst });
        }
      }
    }
    this.reset();
  }

  /** Show one answer: input (784), hidden (one array per hidden layer, may be missing), outputs (10). */
  show(input, hidden, outputs) {
    this.last = [input, hidden, outputs];
    drawInput(this.input, input);
    const layers = [...(hidden || []), outputs];
    if (layers.length !== this.columns.length) {
      // No hidden activations (or another architecture): light the outputs only.
      this.columns.forEach((col, l) => this.#light(col, l === this.columns.length - 1 ? outputs : null));
    } else {
      this.columns.forEach((col, l) => this.#light(col, layers[l]));
    }
    this.#lightEdges();
    this.container.classList.add("live");
  }

  reset() {
    this.last = null;
    clearImage(this.input);
    this.columns.forEach((col) => this.#light(col, null));
    this.#lightEdges();
    this.container.classList.remove("live");
  }

  #light(col, values) {
    const shown = values ? mostActive(values, col.nodes.length) : col.nodes.map((_, i) => i);
    const bright = values ? brightness(values, col.activation) : null;
    const best = values && col.isOutput ? values.indexOf(Math.max(...values)) : -1;
    col.nodes.forEach((node, i) => {
      const index = shown[i];
      const b = bright ? bright[index] : 0;
      node.index = index;
      node.brightness = b;
      node.circle.setAttribute("fill-opacity", b.toFixed(3));
      node.g.dataset.neuron = String(index);
      node.g.classList.toggle("best", index === best);
      const value = values ? Number(values[index]).toFixed(2) : "none yet";
      if (col === this.columns[0]) {
        node.g.classList.toggle("selected", index === this.selected);
        node.g.setAttribute("aria-label", `Hidden layer 1, neuron ${index}, activation ${value}. Show its weights.`);
      } else {
        const what = col.isOutput ? `Output ${index}` : `Neuron ${index}`;
        node.g.setAttribute("aria-label", `${what}, activation ${value}`);
      }
    });
  }

  #lightEdges() {
    for (const { line, src, dst } of this.edges) {
      const signal = src ? src.brightness * dst.brightness : dst.brightness * 0.5;
      line.setAttribute("stroke-opacity", (0.05 + 0.55 * signal).toFixed(3));
    }
  }

  #select(g) {
    const index = Number(g.dataset.neuron);
    this.selected = index;
    for (const node of this.columns[0].nodes) node.g.classList.toggle("selected", node.index === index);
    this.onSelect(index);
  }
}
