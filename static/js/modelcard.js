// The model card: what a network is, how big, how well it did on MNIST's test set, how training went.

import { trainingChart } from "./chart.js";

const KINDS = { mlp: "a fully connected network", convnet: "a convolutional network" };

function fact(list, term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

function formatDate(text) {
  const date = new Date(text);
  if (!text || Number.isNaN(date.getTime())) return text || "unknown";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Fill `container` with the card of one model, as /api/models describes it. */
export function renderModelCard(container, card) {
  const facts = document.createElement("dl");
  facts.className = "facts";
  fact(facts, "Architecture", (card.layers || []).join(" → "));
  const averaged = Array.isArray(card.networks) && card.networks.length > 1;
  if (averaged) {
    // An average: the network above is the one the view shows; the answer is the mean of every network's.
    const moved = (n) => (n.shift > 0 ? `, which also reads the drawing moved ${n.shift} px up, down, left and right`
      : "");
    const others = card.networks.slice(1)
      .map((n) => `${KINDS[n.kind] || n.kind} (${(n.layers || []).join(" → ")})${moved(n)}`);
    const shown = card.networks[0].shift > 0 ? `; the network above${moved(card.networks[0])}` : "";
    fact(facts, "Averaged with", `${others.join("; ")}${shown}: the answer is the mean of their output probabilities`);
  }
  const acts = card.activations || [];
  const uniform = acts.length && acts.every((a) => a === acts[0]);
  fact(facts, "Activations", uniform ? `${acts[0]} in every layer` : acts.join(", "));
  fact(facts, "Cost", String(card.cost || "unknown").replace(/_/g, " "));
  fact(facts, "Parameters", Number(card.parameters).toLocaleString("en-US"));
  const accuracy = Number(card.test_accuracy);
  fact(facts, "Test accuracy", Number.isFinite(accuracy) && card.test_accuracy !== null
    ? `${(100 * accuracy).toFixed(2)}% of MNIST's 10,000 test digits` : "not measured");
  fact(facts, averaged ? "Combined" : "Trained", formatDate(card.trained_at));

  const figure = document.createElement("figure");
  figure.className = "curve";
  const chart = trainingChart(card.history);
  const caption = document.createElement("figcaption");
  if (chart) {
    figure.append(chart);
    const loss = document.createElement("span");
    loss.className = "legend loss";
    loss.textContent = "training loss";
    const acc = document.createElement("span");
    acc.className = "legend acc";
    acc.textContent = "validation accuracy";
    caption.append(averaged ? "Training curve of the first network: " : "Training curve: ", loss, " ", acc);
  } else {
    caption.textContent = "No training history was saved with this model.";
  }
  figure.append(caption);
  container.replaceChildren(facts, figure);
}

export function renderModelCardError(container, message) {
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = message;
  container.replaceChildren(p);
}
