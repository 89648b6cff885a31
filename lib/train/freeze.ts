/**
 * Freezing parts of a model for transfer learning, like the report's `freeze_layers`:
 * - `"backbone"`: every nested model inside this one (e.g. MobileNetV2 used as a layer), or the layers
 *   whose names start with `backbonePrefix`;
 * - a number N: the first N layers that hold weights (of the backbone when there is one);
 * - `{ weights: N }`: the first N weight tensors in order (PyTorch-style `parameters()[:N]`).
 * Frozen weights get no gradient in `fit` (and keep `trainable = false` for model.fit too).
 * As in Keras, a frozen BatchNormalization layer runs in inference mode (moving statistics, no
 * updates) even while the rest of the model trains.
 */
import * as tf from "@tensorflow/tfjs";

export type FreezeSpec = "backbone" | number | { weights: number };

export interface FreezeOptions {
  /** Layers whose names start with this are "the backbone" when there is no nested model. */
  backbonePrefix?: string;
}

export interface FreezeResult {
  frozenLayers: string[];
  frozenWeights: string[];
  trainableWeights: number;
}

function backboneLayers(model: tf.LayersModel, options: FreezeOptions): tf.layers.Layer[] {
  if (options.backbonePrefix) return model.layers.filter((layer) => layer.name.startsWith(options.backbonePrefix as string));
  return model.layers.filter((layer) => layer instanceof tf.LayersModel);
}

/** Weighted leaf layers in order (nested models are expanded). */
function leafLayers(layers: readonly tf.layers.Layer[]): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of layers) {
    if (layer instanceof tf.LayersModel) out.push(...leafLayers(layer.layers));
    else if (layer.weights.length > 0) out.push(layer);
  }
  return out;
}

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
const ORIGINAL_CALL = Symbol("originalCall");

/** Makes a frozen BatchNormalization ignore `training: true` (Keras' behaviour since TF 2.0). */
function setInferenceOnly(layer: tf.layers.Layer, on: boolean): void {
  const patched = layer as unknown as { call: CallFn; [ORIGINAL_CALL]?: CallFn };
  if (on && !patched[ORIGINAL_CALL]) {
    const original = patched.call;
    patched[ORIGINAL_CALL] = original;
    patched.call = (inputs, kwargs) => original.call(layer, inputs, { ...kwargs, training: false });
  } else if (!on && patched[ORIGINAL_CALL]) {
    patched.call = patched[ORIGINAL_CALL] as CallFn;
    delete patched[ORIGINAL_CALL];
  }
}

function freezeBatchNorms(layers: readonly tf.layers.Layer[]): void {
  for (const layer of layers) {
    if (layer instanceof tf.LayersModel) freezeBatchNorms(layer.layers);
    else if (layer.getClassName() === "BatchNormalization") setInferenceOnly(layer, true);
  }
}

/**
 * A tf.Sequential builds its inner model lazily on first call and then resets every weight's
 * `trainable` flag from the model's; build it now so per-weight freezing is not undone later.
 */
function ensureBuilt(layers: readonly tf.layers.Layer[]): void {
  for (const layer of layers) {
    if (layer instanceof tf.Sequential) {
      const sequential = layer as unknown as { model?: unknown; build(): void };
      if (sequential.model == null) sequential.build();
    }
    if (layer instanceof tf.LayersModel) ensureBuilt(layer.layers);
  }
}

export function freezeLayers(model: tf.LayersModel, spec: FreezeSpec, options: FreezeOptions = {}): FreezeResult {
  ensureBuilt([model]);
  const frozenLayers: string[] = [];
  const frozenWeights: string[] = [];
  const backbone = backboneLayers(model, options);
  if (spec === "backbone") {
    if (backbone.length === 0) {
      throw new Error(`freezeLayers("backbone"): model ${model.name} has no nested model and no layers starting with backbonePrefix=${JSON.stringify(options.backbonePrefix)}`);
    }
    for (const layer of backbone) {
      layer.trainable = false;
      frozenLayers.push(layer.name);
    }
    freezeBatchNorms(backbone);
  } else if (typeof spec === "number") {
    if (!Number.isInteger(spec) || spec < 0) throw new Error(`freezeLayers: N must be a non-negative integer, got ${spec}`);
    const candidates = leafLayers(backbone.length > 0 ? backbone : model.layers);
    if (spec > candidates.length) throw new Error(`freezeLayers(${spec}): only ${candidates.length} layers with weights`);
    for (const layer of candidates.slice(0, spec)) {
      layer.trainable = false;
      frozenLayers.push(layer.name);
    }
    freezeBatchNorms(candidates.slice(0, spec));
  } else {
    const n = spec.weights;
    const all = (backbone.length > 0 ? backbone : model.layers).flatMap((layer) => layer.weights);
    if (!Number.isInteger(n) || n < 0 || n > all.length) throw new Error(`freezeLayers({weights: ${n}}): must be an integer in [0, ${all.length}]`);
    for (const weight of all.slice(0, n)) {
      weight.trainable = false;
      frozenWeights.push(weight.name);
    }
  }
  if (frozenWeights.length === 0) {
    const trainable = new Set(model.trainableWeights.map((w) => w.name));
    for (const weight of model.weights) if (!trainable.has(weight.name)) frozenWeights.push(weight.name);
  }
  return { frozenLayers, frozenWeights, trainableWeights: model.trainableWeights.length };
}

/** Makes every layer and weight trainable again (fine-tuning after a frozen warm-up). */
export function unfreezeAll(model: tf.LayersModel): void {
  const visit = (layers: readonly tf.layers.Layer[]): void => {
    for (const layer of layers) {
      layer.trainable = true;
      for (const weight of layer.weights) weight.trainable = true;
      setInferenceOnly(layer, false);
      if (layer instanceof tf.LayersModel) visit(layer.layers);
    }
  };
  model.trainable = true;
  visit(model.layers);
}

/** The variables `fit` updates: trainable weights of trainable layers. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}
