// Ten labelled bars, one per output neuron, each with its activation written above it.

export class Bars {
  /**
   * @param {HTMLElement} list an <ol> to fill
   * @param {string|null} testidPrefix gives each bar data-testid `${prefix}-${digit}`
   */
  constructor(list, testidPrefix = null) {
    this.items = [];
    for (let digit = 0; digit < 10; digit++) {
      const item = document.createElement("li");
      item.className = "bar";
      if (testidPrefix) item.dataset.testid = `${testidPrefix}-${digit}`;
      const value = document.createElement("span");
      value.className = "bar-value";
      const track = document.createElement("span");
      track.className = "bar-track";
      track.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      track.append(fill);
      const label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = String(digit);
      item.append(value, track, label);
      list.append(item);
      this.items.push({ item, value, fill });
    }
    this.reset();
  }

  /** @param {number[]} activations ten values in [0, 1] */
  show(activations) {
    let best = 0;
    activations.forEach((a, i) => {
      if (a > activations[best]) best = i;
    });
    this.items.forEach(({ item, value, fill }, digit) => {
      const a = Math.min(1, Math.max(0, Number(activations[digit]) || 0));
      value.textContent = a.toFixed(2);
      fill.style.setProperty("--v", String(a));
      item.dataset.value = String(a);
      item.classList.toggle("best", digit === best);
      item.setAttribute("aria-label", `${digit}: ${a.toFixed(2)}`);
    });
  }

  reset() {
    this.items.forEach(({ item, value, fill }, digit) => {
      value.textContent = "–";
      fill.style.setProperty("--v", "0");
      delete item.dataset.value;
      item.classList.remove("best");
      item.setAttribute("aria-label", `${digit}: no value`);
    });
  }
}
