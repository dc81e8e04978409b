// 28×28 pictures on small canvases that CSS enlarges with crisp pixels.

const SIDE = 28;

function paint(canvas, colourOf) {
  canvas.width = SIDE;
  canvas.height = SIDE;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIDE, SIDE);
  for (let i = 0; i < SIDE * SIDE; i++) {
    const [r, g, b] = colourOf(i);
    image.data.set([r, g, b, 255], i * 4);
  }
  ctx.putImageData(image, 0, 0);
}

/** The network's input: 784 values in [0, 1], ink high, drawn white on black like MNIST. */
export function drawInput(canvas, pixels) {
  paint(canvas, (i) => {
    const v = Math.round(255 * Math.min(1, Math.max(0, Number(pixels[i]) || 0)));
    return [v, v, v];
  });
}

export function clearImage(canvas) {
  paint(canvas, () => [0, 0, 0]);
}

/** Weights on a diverging scale: blue positive, red negative, black zero; scaled by the largest |w|. */
export function drawWeights(canvas, weights) {
  const scale = Math.max(1e-9, ...weights.map((w) => Math.abs(w)));
  paint(canvas, (i) => {
    const t = Math.max(-1, Math.min(1, weights[i] / scale));
    const m = Math.sqrt(Math.abs(t)); // brings out the weaker weights
    return t >= 0 ? [40 * m, 140 * m, 255 * m] : [255 * m, 60 * m, 50 * m];
  });
}
