/**
 * Grad-CAM for any fitted classifier (classification.ts): where in the image the model looked for a class.
 *
 *   const cams = await classifierGradCam(fitted, rows);          // one map per row, for its predicted class
 *   await showImageGrid(gradCamGridItems(cams, { classNames: fitted.classes, trueClasses }), …);
 */
import * as tf from "@tensorflow/tfjs";
import { decodeItemImage, pixelStackImage } from "../data";
import { gradCam, gradCamImages, overlayHeatmap, type ImageGradCamResult } from "../eval";
import { frozenMobileNetV2, type FittedClassifier } from "./classification";

/**
 * Grad-CAM maps of some rows (each for the row's predicted class, or `classIndex`). A small CNN is explained at its
 * last convolution, on the pixels it read; an embedding model through the frozen MobileNetV2's last convolution,
 * the train-fitted embedding scaler and the trained model (with the row's metadata, when it reads any).
 */
export async function classifierGradCam(fitted: FittedClassifier, rows: readonly number[], options: { classIndex?: number | readonly number[] } = {}): Promise<ImageGradCamResult[]> {
  if (!fitted.usesImage) throw new Error("Grad-CAM needs a model with an image input; this one reads metadata only");
  const { prepared } = fitted;
  const x = fitted.inputsFor(rows);
  const inputs = Array.isArray(x) ? x : [x];
  try {
    if (prepared.pixels) {
      const stack = prepared.pixels;
      const results = await gradCam(fitted.model, inputs, { classIndex: options.classIndex });
      return results.map((r, i) => ({ ...r, overlay: overlayHeatmap(pixelStackImage(stack, rows[i]), r.heatmap) }));
    }
    const scaler = fitted.embeddingScaler;
    if (!scaler) throw new Error("classifierGradCam: an embedding model without its fitted scaler");
    const backbone = await frozenMobileNetV2();
    const mean = tf.tensor1d(Float32Array.from(scaler.mean));
    const std = tf.tensor1d(Float32Array.from(scaler.std));
    const meta = inputs.length > 1 ? inputs[1] : null;
    const images = await Promise.all(rows.map((r) => decodeItemImage(prepared.dataset.items[r], { size: backbone.inputSize })));
    try {
      const head = (embedding: tf.Tensor, indices: readonly number[]): tf.Tensor => {
        const scaled = tf.div(tf.sub(embedding, mean), std);
        return fitted.model.apply(meta ? [scaled, tf.gather(meta, indices as number[])] : scaled) as tf.Tensor;
      };
      return await gradCamImages({ backbone: backbone.model, head }, images, { preprocess: backbone.preprocess, classIndex: options.classIndex });
    } finally {
      tf.dispose([mean, std]);
    }
  } finally {
    tf.dispose(inputs);
  }
}
