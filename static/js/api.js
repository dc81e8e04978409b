// The prediction service's HTTP API, with failures turned into readable messages.

export class ApiError extends Error {
  /** @param {string} message what a person should read @param {number} status HTTP status, 0 when unreachable */
  constructor(message, status = 0) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "application/json" }, ...options });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError("Can't reach the server. Is it running?");
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: described below from the status alone
  }
  if (!response.ok) {
    const detail = describeDetail(body && body.detail);
    const what = response.status >= 500 ? "The server had a problem" : "The server refused the request";
    const message = `${what} (HTTP ${response.status})${detail ? `: ${detail.replace(/\.?$/, ".")}` : "."}`;
    throw new ApiError(message, response.status);
  }
  if (body === null) throw new ApiError("The server sent an answer that isn't JSON.", response.status);
  return body;
}

/** FastAPI's `detail` is a string, or a list of validation errors with `msg` fields. */
function describeDetail(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d && d.msg) || String(d)).join("; ");
  return "";
}

/**
 * Ask a model to read a drawing.
 * @param {string} image a data URL, as canvas.toDataURL() returns
 * @param {string} model "classic", "default", ...
 * @param {boolean} explain also return every hidden layer's activations
 */
export function predict(image, model, explain = false, signal = undefined) {
  return request("/api/predict", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ image, model, explain }),
    signal,
  });
}

/** Every loaded model's card: name, layers, activations, cost, parameters, test_accuracy, trained_at, history. */
export function listModels() {
  return request("/api/models");
}

/** The incoming weights of one neuron: `layer` counts weighted layers from 1, `neuron` from 0. */
export function neuronWeights(model, layer, neuron) {
  const path = `/api/models/${encodeURIComponent(model)}/weights/${layer}/${neuron}`;
  return request(path);
}

/**
 * Keep a drawing with the digit it really is (201 `{id}`); 404 when the server has feedback turned off.
 * @param {{image: string, label: number, predicted: number|null, model: string|null}} drawing the data URL the
 *   prediction was made from, the right digit, and what the named model answered
 */
export function sendFeedback({ image, label, predicted, model }) {
  return request("/api/feedback", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ image, label, predicted, model }),
  });
}

/** `{total, per_label, accuracy: {model: share}, predictions: {model: count}}`; 404 when feedback is off. */
export function feedbackStats() {
  return request("/api/feedback/stats");
}
