import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  ARCHITECTURE_NAMES,
  DEFAULT_ARCHITECTURE,
  REPORT_ARCHITECTURES,
  buildModel,
  countTrainableParams,
  getArchitecture,
  modelInputNames,
  withImageInputs,
  type ArchitectureSpec,
  type InputDims,
} from "../../lib/models";

tf.setBackend("cpu");

const DIMS: InputDims = { meta: 24, stats: 26, embedding: 1280 };

/** Trainable params of Dense(in→u) + BatchNorm(u) (γ, β; the moving statistics are not trainable). */
function blocks(input: number, units: readonly number[]): { params: number; out: number } {
  let params = 0;
  let prev = input;
  for (const u of units) {
    params += prev * u + u + 2 * u;
    prev = u;
  }
  return { params, out: prev };
}

function expectedConcatParams(spec: ArchitectureSpec, dims: InputDims): number {
  let params = 0;
  let fused = 0;
  for (const name of modelInputNames(spec)) {
    const units = name === "meta" ? spec.meta : name === "stats" ? spec.statsUnits : spec.embeddingUnits;
    const b = blocks(dims[name]!, units);
    params += b.params;
    fused += b.out;
  }
  const head = blocks(fused, spec.head);
  return params + head.params + head.out * 3 + 3;
}

function inputsFor(spec: ArchitectureSpec, n: number): tf.Tensor2D[] {
  return modelInputNames(spec).map((name) => tf.randomNormal([n, DIMS[name]!], 0, 1, "float32", 7) as tf.Tensor2D);
}

test("the report's four architectures have the report's layer sizes", () => {
  const sizes = Object.fromEntries(REPORT_ARCHITECTURES.map((n) => [n, { meta: getArchitecture(n).meta, head: getArchitecture(n).head }]));
  assert.deepEqual(sizes, {
    NetEngagementPOI: { meta: [64, 32], head: [128, 64] },
    NetEngagementPOIProfunda: { meta: [128, 64, 32], head: [128, 64, 32] },
    NetEngagementPOIMix: { meta: [32], head: [64, 32] },
    NetEngagementPOIFinal: { meta: [64, 32, 16], head: [64] },
  });
  for (const n of REPORT_ARCHITECTURES) assert.equal(getArchitecture(n).backbone, "mobilenet-v2");
});

test("NetEngagementPOI on 24 metadata columns and a 1280-d embedding has 107,235 trainable parameters", () => {
  // meta 24→64→32: 1728 + 2144; embedding 1280→64: 82112; head 96→128→64: 12672 + 8384; output 64→3: 195.
  const model = buildModel("NetEngagementPOI", DIMS);
  assert.equal(countTrainableParams(model), 107235);
  model.dispose();
});

test("every concat architecture: output [n, 3] of probabilities and the expected parameter count", () => {
  for (const name of ARCHITECTURE_NAMES) {
    const spec = getArchitecture(name);
    if (spec.fusion !== "concat") continue;
    const model = buildModel(spec, DIMS, { seed: 1 });
    assert.deepEqual(
      model.inputs.map((i) => i.name.replace(/_\d+$/, "")),
      modelInputNames(spec),
      `${name}: input order`,
    );
    const x = inputsFor(spec, 5);
    const y = model.predict(x) as tf.Tensor;
    assert.deepEqual(y.shape, [5, 3], name);
    const sums = tf.sum(y, 1).arraySync() as number[];
    for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, `${name}: rows sum to 1`);
    const expected = spec.kind === "linear" ? (modelInputNames(spec).reduce((a, n) => a + DIMS[n]!, 0) + 1) * 3 : expectedConcatParams(spec, DIMS);
    assert.equal(countTrainableParams(model), expected, `${name}: trainable params`);
    tf.dispose([...x, y]);
    model.dispose();
  }
});

test("gated and attention fusion: output [n, 3], parameter counts, and they differ from concat", () => {
  const gated = getArchitecture("FusionGated");
  const attention = getArchitecture("FusionAttention");
  const w = gated.fusionWidth;
  const branches = [blocks(DIMS.meta, gated.meta), blocks(DIMS.stats!, gated.statsUnits), blocks(DIMS.embedding!, gated.embeddingUnits)];
  const all = branches.reduce((a, b) => a + b.out, 0);
  const trunk = branches.reduce((a, b) => a + b.params, 0);
  const projections = branches.reduce((a, b) => a + b.out * w + w, 0);
  const headParams = (h: readonly number[]) => blocks(w, h).params + blocks(w, h).out * 3 + 3;
  const expectedGated = trunk + projections + 3 * (all * w + w) + headParams(gated.head);
  const expectedAttention = trunk + projections + w + headParams(attention.head);
  for (const [spec, expected] of [[gated, expectedGated], [attention, expectedAttention]] as const) {
    const model = buildModel(spec, DIMS, { seed: 2 });
    assert.equal(countTrainableParams(model), expected, spec.name);
    const x = inputsFor(spec, 4);
    const y = model.predict(x) as tf.Tensor;
    assert.deepEqual(y.shape, [4, 3], spec.name);
    tf.dispose([...x, y]);
    model.dispose();
  }
  const concat = buildModel("FusionConcat", DIMS);
  assert.notEqual(countTrainableParams(concat), expectedGated);
  concat.dispose();
});

test("attention weights over the branches sum to one per sample", () => {
  const model = buildModel("FusionAttention", DIMS, { seed: 3 });
  const weightsLayer = model.layers.find((l) => l.name.startsWith("attention_weights"));
  assert.ok(weightsLayer, "an attention_weights layer");
  const probe = tf.model({ inputs: model.inputs, outputs: weightsLayer!.output as tf.SymbolicTensor });
  const x = inputsFor(getArchitecture("FusionAttention"), 6);
  const w = probe.predict(x) as tf.Tensor;
  assert.deepEqual(w.shape, [6, 3]);
  for (const s of tf.sum(w, 1).arraySync() as number[]) assert.ok(Math.abs(s - 1) < 1e-5);
  tf.dispose([...x, w]);
  model.dispose();
});

test("same seed ⇒ same initial weights; dense kernels He-normal with zero biases", () => {
  const a = buildModel("NetEngagementPOIMix", DIMS, { seed: 11 });
  const b = buildModel("NetEngagementPOIMix", DIMS, { seed: 11 });
  const c = buildModel("NetEngagementPOIMix", DIMS, { seed: 12 });
  const flat = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(flat(a), flat(b));
  assert.notDeepEqual(flat(a), flat(c));
  const meta = a.layers.find((l) => l.name.startsWith("meta1_dense"))!;
  const [kernel, bias] = meta.getWeights();
  assert.ok(bias.dataSync().every((v) => v === 0));
  const values = Array.from(kernel.dataSync() as Float32Array);
  const sd = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  const he = Math.sqrt(2 / DIMS.meta); // truncated normal: the sample sd is a bit below
  assert.ok(sd > 0.7 * he && sd < 1.1 * he, `kernel sd ${sd} vs He ${he}`);
  [a, b, c].forEach((m) => m.dispose());
});

test("withImageInputs adds the statistics branch to a report network; missing input sizes are refused", () => {
  const spec = withImageInputs(getArchitecture("NetEngagementPOIFinal"), "embedding+stats");
  assert.equal(spec.name, "NetEngagementPOIFinal[embedding+stats]");
  assert.deepEqual(modelInputNames(spec), ["meta", "stats", "embedding"]);
  assert.throws(() => buildModel("FusionConcat", { meta: 24, stats: 26 }), /embedding/);
  assert.throws(() => getArchitecture("ResNet9000"), /unknown model "ResNet9000"; known: default \(\w+\), logreg-meta/);
});

test('"default" names the recommended model, and the error for an unknown name lists it', () => {
  assert.equal(getArchitecture("default").name, DEFAULT_ARCHITECTURE);
  assert.ok(ARCHITECTURE_NAMES.includes(DEFAULT_ARCHITECTURE));
  assert.throws(() => getArchitecture("nope"), new RegExp(`known: default \\(${DEFAULT_ARCHITECTURE}\\)`));
});
