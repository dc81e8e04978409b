// Compare mode: every model's answer to the same drawing, side by side.

import { Bars } from "./bars.js";

export class CompareView {
  /** @param {HTMLElement} section shown only in compare mode @param {HTMLElement} grid holds one cell per model */
  constructor(section, grid) {
    this.section = section;
    this.grid = grid;
    this.cells = new Map();
  }

  setModels(names) {
    this.cells.clear();
    this.grid.replaceChildren(
      ...names.map((name) => {
        const cell = document.createElement("article");
        cell.className = "compare-cell";
        cell.dataset.testid = `compare-${name}`;
        const title = document.createElement("h4");
        title.textContent = name;
        const digit = document.createElement("p");
        digit.className = "compare-digit";
        digit.dataset.testid = `compare-${name}-digit`;
        const confidence = document.createElement("p");
        confidence.className = "compare-confidence";
        const list = document.createElement("ol");
        list.className = "bars mini";
        list.setAttribute("aria-label", `${name}: output activations`);
        cell.append(title, digit, confidence, list);
        this.cells.set(name, { digit, confidence, bars: new Bars(list) });
        return cell;
      }),
    );
    this.reset();
  }

  setVisible(visible) {
    this.section.hidden = !visible;
    if (!visible) this.reset();
  }

  /** @param {object[]} answers /api/predict answers, each naming its model */
  show(answers) {
    for (const answer of answers) {
      const cell = this.cells.get(answer.model);
      if (!cell) continue;
      if (answer.empty || answer.digit === null) {
        cell.digit.textContent = "";
        cell.confidence.textContent = "";
        cell.bars.reset();
      } else {
        cell.digit.textContent = String(answer.digit);
        cell.confidence.textContent = `${Math.round(100 * answer.confidence)}% sure`;
        cell.bars.show(answer.activations);
      }
    }
  }

  reset() {
    for (const cell of this.cells.values()) {
      cell.digit.textContent = "";
      cell.confidence.textContent = "";
      cell.bars.reset();
    }
  }
}
