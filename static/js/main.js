// The page: wires the pad to the API and the answer, network and model-card views.

import { listModels, neuronWeights, predict } from "./api.js";
import { Bars } from "./bars.js";
import { CompareView } from "./compare.js";
import { FeedbackView } from "./feedback.js";
import { clearImage, drawInput, drawWeights } from "./images.js";
import { LiveRunner } from "./live.js";
import { renderModelCard, renderModelCardError } from "./modelcard.js";
import { NetworkView } from "./network.js";
import { Pad } from "./pad.js";

const $ = (id) => document.getElementById(id);

const ui = {
  pad: $("pad"),
  padWrap: $("pad").parentElement,
  model: $("model"),
  compare: $("compare"),
  prediction: $("prediction"),
  confidence: $("confidence"),
  status: $("status"),
  preview: $("preview"),
  badges: [$("answer-model"), $("network-model"), $("card-model")],
  card: $("model-card"),
  neuronWeights: $("neuron-weights"),
  neuronCaption: $("neuron-caption"),
  neuronHelp: [...$("neuron-caption").childNodes].map((node) => node.cloneNode(true)),
};

// Until /api/models answers, the two models the service ships.
const cards = new Map([
  ["default", { name: "default", layers: [784, 1024, 1024, 10], activations: ["relu", "relu", "softmax"] }],
  ["classic", { name: "classic", layers: [784, 16, 16, 10], activations: ["sigmoid", "sigmoid", "sigmoid"] }],
]);
let cardsLoaded = false;
let userChoseModel = false;

const bars = new Bars($("bars"), "activation");
const compare = new CompareView($("compare-view"), $("compare-grid"));
const network = new NetworkView($("network"), { onSelect: showNeuron });
const feedback = new FeedbackView({
  row: $("feedback"),
  question: $("feedback-question"),
  yes: $("feedback-yes"),
  digits: $("feedback-digits"),
  status: $("feedback-status"),
  summary: $("feedback-summary"),
});
const pad = new Pad(ui.pad, { onChange: drawingChanged, onStrokeEnd: () => live.changed(true) });
// data-busy on the pad says whether an answer is still on its way (tests wait on it).
const live = new LiveRunner(recognise, 120, (busy) => {
  ui.pad.dataset.busy = String(busy);
});

function selectedModel() {
  return ui.model.value;
}

function setStatus(text, kind = "info") {
  ui.status.textContent = text;
  ui.status.classList.toggle("error", kind === "error");
  ui.status.classList.toggle("busy", kind === "busy");
}

function drawingChanged() {
  ui.padWrap.classList.toggle("empty", pad.isEmpty);
  if (pad.isEmpty) {
    live.cancel();
    showEmpty();
  } else {
    live.changed();
  }
}

/** No answer on show: the pad is empty, or the server could not answer. */
function clearAnswer() {
  ui.prediction.textContent = "";
  ui.confidence.textContent = "";
  bars.reset();
  clearImage(ui.preview);
  network.reset();
  compare.reset();
  feedback.withdraw();
}

function showEmpty() {
  clearAnswer();
  setStatus("Draw a digit");
}

/** One round trip for the drawing as it is now; `version` tells whether the answer is still wanted. */
async function recognise(version) {
  if (pad.isEmpty) return;
  const image = pad.toDataURL();
  const model = selectedModel();
  const others = ui.compare.checked ? [...cards.keys()].filter((name) => name !== model) : [];
  try {
    const [main, ...rest] = await Promise.all([
      predict(image, model, true),
      ...others.map((name) => predict(image, name, false)),
    ]);
    if (live.isStale(version) || pad.isEmpty) return;
    showAnswer(main);
    if (Number.isInteger(main.digit)) feedback.offer({ image, model, digit: main.digit });
    if (ui.compare.checked) compare.show([main, ...rest]);
  } catch (err) {
    if (live.isStale(version)) return;
    clearAnswer();
    const what = err.name === "ApiError" ? err.message : `Something went wrong: ${err.message}.`;
    setStatus(`${what} Your drawing is kept: draw on to try again.`, "error");
  }
}

function showAnswer(answer) {
  if (answer.empty || answer.digit === null || answer.digit === undefined) {
    showEmpty();
    return;
  }
  ui.prediction.textContent = String(answer.digit);
  const confidence = Math.round(100 * Number(answer.confidence));
  ui.confidence.textContent = `${confidence}% sure`;
  setStatus(confidence >= 60 ? `Looks like a ${answer.digit}.` : `Maybe a ${answer.digit}? Not sure.`);
  bars.show(answer.activations);
  drawInput(ui.preview, answer.input);
  network.show(answer.input, answer.hidden, answer.activations);
}

function modelChanged() {
  const name = selectedModel();
  const card = cards.get(name) || { name, layers: [784, 16, 16, 10], activations: [] };
  for (const badge of ui.badges) badge.textContent = name;
  network.setModel(card);
  resetNeuronView();
  if (cardsLoaded) renderModelCard(ui.card, card);
  live.cancel();
  if (pad.isEmpty) showEmpty();
  else live.changed(true);
}

function compareChanged() {
  compare.setVisible(ui.compare.checked);
  if (!pad.isEmpty) live.changed(true);
}

function resetNeuronView() {
  clearImage(ui.neuronWeights);
  ui.neuronWeights.classList.add("idle");
  ui.neuronCaption.replaceChildren(...ui.neuronHelp.map((node) => node.cloneNode(true)));
}

async function showNeuron(neuron) {
  const model = selectedModel();
  ui.neuronCaption.textContent = `Loading neuron ${neuron}…`;
  try {
    const answer = await neuronWeights(model, 1, neuron);
    if (model !== selectedModel()) return;
    if (answer.weights.length !== 784) {
      // A convolutional first layer: the neuron reads a small window through its channel's kernel.
      clearImage(ui.neuronWeights);
      ui.neuronWeights.classList.add("idle");
      ui.neuronCaption.textContent =
        `Neuron ${neuron} of hidden layer 1 (${model}) is one position of a convolution: it shares its ` +
        `channel's ${answer.shape.join("×")} kernel with the others and reads a small patch, not all 784 pixels.`;
      return;
    }
    drawWeights(ui.neuronWeights, answer.weights);
    ui.neuronWeights.classList.remove("idle");
    const bias = Number.isFinite(answer.bias) ? ` Bias ${answer.bias.toFixed(2)}.` : "";
    ui.neuronCaption.textContent =
      `Neuron ${neuron} of hidden layer 1 (${model}): its 784 incoming weights. ` +
      `Blue pixels push it up, red ones push it down.${bias}`;
  } catch (err) {
    clearImage(ui.neuronWeights);
    ui.neuronWeights.classList.add("idle");
    ui.neuronCaption.textContent =
      err.status === 404
        ? "This server doesn't share neuron weights."
        : `Couldn't load neuron ${neuron}'s weights. ${err.message}`;
  }
}

async function loadModels() {
  try {
    const list = await listModels();
    if (!Array.isArray(list) || list.length === 0) throw new Error("The server has no models loaded.");
    const current = selectedModel();
    cards.clear();
    for (const card of list) cards.set(card.name, card);
    ui.model.replaceChildren(
      ...list.map((card) => {
        const option = document.createElement("option");
        option.value = card.name;
        const also = (card.networks || []).slice(1).map((n) => ` + ${n.kind}`).join("");
        option.textContent = `${card.name} · ${(card.layers || []).join("-")}${also}`;
        return option;
      }),
    );
    const preferred = userChoseModel ? current : (list.find((card) => card.default) || {}).name;
    ui.model.value = cards.has(preferred) ? preferred : cards.has(current) ? current : list[0].name;
    cardsLoaded = true;
    compare.setModels([...cards.keys()]);
    modelChanged();
  } catch (err) {
    renderModelCardError(ui.card, `Couldn't load the model card. ${err.message}`);
  }
}

function onKey(e) {
  const tag = e.target && e.target.tagName;
  if (tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && e.target.type !== "checkbox")) return;
  if (e.key === "Escape" || e.key === "Delete") {
    e.preventDefault();
    pad.clear();
  } else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") {
    e.preventDefault();
    pad.undo();
  }
}

$("clear").addEventListener("click", () => pad.clear());
$("undo").addEventListener("click", () => pad.undo());
ui.model.addEventListener("change", () => {
  userChoseModel = true;
  modelChanged();
});
ui.compare.addEventListener("change", compareChanged);
document.addEventListener("keydown", onKey);

compare.setModels([...cards.keys()]);
ui.padWrap.classList.add("empty");
modelChanged();
loadModels();
feedback.start();
