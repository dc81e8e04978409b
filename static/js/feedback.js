// "Was it a 7?": after each answer, one tap confirms it or says which digit it really was, and the drawing is
// kept on the server (POST /api/feedback) to train the network on later. A small summary shows how many
// drawings were collected and how often the network was right on them. Everything stays hidden when the
// server has feedback turned off (its feedback endpoints answer 404).

import { feedbackStats, sendFeedback } from "./api.js";

const MESSAGES = {
  404: "Saving drawings is turned off on this server.",
  503: "Saving is unavailable right now. Please try again later.",
  507: "The collection is full: no more drawings can be kept.",
};

export class FeedbackView {
  /**
   * @param {{row: HTMLElement, question: HTMLElement, yes: HTMLButtonElement, digits: HTMLElement,
   *   status: HTMLElement, summary: HTMLElement}} ui the row of buttons, its parts, and the summary panel
   */
  constructor(ui) {
    this.ui = ui;
    this.enabled = false; // until /api/feedback/stats answers: never offer what the server may refuse
    this.offered = null; // { image, model, digit } of the answer on show
    this.saved = null; // the data URL of the drawing last saved, so the same drawing is not offered twice
    this.buttons = [];
    for (let digit = 0; digit < 10; digit++) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "digit-button";
      button.textContent = String(digit);
      button.dataset.testid = `feedback-label-${digit}`;
      button.setAttribute("aria-label", `It was a ${digit}`);
      button.addEventListener("click", () => this.save(digit));
      ui.digits.append(button);
      this.buttons.push(button);
    }
    ui.yes.addEventListener("click", () => this.offered && this.save(this.offered.digit));
  }

  /** Ask the server whether feedback is on; show the summary and allow the row if so. */
  async start() {
    try {
      this.showStats(await feedbackStats());
      this.enabled = true;
    } catch (err) {
      if (err.status === 404) return this.disable();
      this.enabled = true; // on, but the store is failing now: saving says so when tried
      this.showSummary(err.status === 503 ? MESSAGES[503] : `Couldn't load the collection's numbers. ${err.message}`);
    }
    if (this.offered) this.offer(this.offered);
  }

  /** An answer is on show: ask whether it was right. `image` is the data URL the prediction was made from. */
  offer({ image, model, digit }) {
    this.offered = { image, model, digit };
    if (!this.enabled) return;
    if (image === this.saved) return; // already kept: the confirmation stays
    this.ui.question.textContent = `Was it a ${digit}?`;
    this.ui.yes.setAttribute("aria-label", `Yes, it was a ${digit}`);
    this.setButtons(true);
    this.setStatus("");
    this.ui.row.hidden = false;
  }

  /** No answer on show (empty pad, or the server could not answer). */
  withdraw() {
    this.offered = null;
    this.saved = null;
    this.ui.row.hidden = true;
    this.setStatus("");
  }

  async save(label) {
    const offered = this.offered;
    if (!offered) return;
    this.setButtons(false);
    this.setStatus("Saving…");
    try {
      await sendFeedback({ image: offered.image, label, predicted: offered.digit, model: offered.model });
    } catch (err) {
      if (this.offered !== offered) return; // the drawing changed meanwhile: its own row is on show
      if (err.status === 404) return this.disable();
      this.setButtons(true);
      this.setStatus(MESSAGES[err.status] || err.message, "error");
      return;
    }
    this.saved = offered.image;
    if (this.offered === offered) {
      this.ui.question.textContent = label === offered.digit ? `It was a ${label}.` : `It was a ${label}, not a ${offered.digit}.`;
      this.setStatus("Saved — thank you!", "done");
    }
    this.refresh();
  }

  async refresh() {
    try {
      this.showStats(await feedbackStats());
    } catch (err) {
      if (err.status === 404) this.disable();
    }
  }

  /** `{total, accuracy: {model: share}, predictions: {model: count}}` → one sentence. */
  showStats(stats) {
    const total = Number(stats.total) || 0;
    const shares = Object.entries(stats.accuracy || {}).filter(([, share]) => Number.isFinite(share));
    const counts = stats.predictions || {};
    // The share over every model's predictions, each weighted by how many it made.
    const judged = shares.reduce((sum, [model]) => sum + (Number(counts[model]) || 1), 0);
    const right = shares.reduce((sum, [model, share]) => sum + share * (Number(counts[model]) || 1), 0);
    const drawings = `${total.toLocaleString("en")} drawing${total === 1 ? "" : "s"}`;
    const rate = judged ? `, the network was right on ${Math.round((100 * right) / judged)}%` : "";
    this.showSummary(total ? `Your corrections: ${drawings}${rate}.` : "Your corrections: none yet.");
    this.ui.summary.dataset.total = String(total);
  }

  showSummary(text) {
    this.ui.summary.textContent = text;
    this.ui.summary.hidden = false;
  }

  disable() {
    this.enabled = false;
    this.ui.row.hidden = true;
    this.ui.summary.hidden = true;
  }

  setButtons(enabled) {
    for (const button of [this.ui.yes, ...this.buttons]) button.disabled = !enabled;
  }

  setStatus(text, kind = "info") {
    this.ui.status.textContent = text;
    this.ui.status.classList.toggle("error", kind === "error");
    this.ui.status.classList.toggle("done", kind === "done");
  }
}
