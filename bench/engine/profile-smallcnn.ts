/**
 * Where one small-CNN training batch spends its time, per kernel (self time), on the automatic backend.
 *   node --import tsx bench/engine/profile-smallcnn.ts
 */
import * as tf from "@tensorflow/tfjs";
import { initEngine } from "../../lib/engine";
import { smallCnnModel } from "./small-cnn";

async function main(): Promise<void> {
  await initEngine();
  const model = smallCnnModel();
  const x = tf.randomUniform([32, 64, 64, 3], -1, 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 32 }, (_, i) => i % 3), "int32"), 3);
  for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) await model.trainOnBatch(x, y);
  console.log(`trainOnBatch: ${((performance.now() - t0) / 10).toFixed(1)} ms`);
  const info = await tf.profile(async () => {
    for (let i = 0; i < 10; i++) await model.trainOnBatch(x, y);
  });
  const byName = new Map<string, { ms: number; n: number }>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = (await k.kernelTimeMs) as number;
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const e = byName.get(key) ?? { ms: 0, n: 0 };
    e.ms += ms / 10;
    e.n += 1 / 10;
    byName.set(key, e);
    total += ms / 10;
  }
  const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log(`kernels per batch: ${info.kernels.length / 10}, kernel ms per batch: ${total.toFixed(1)}`);
  for (const [k, v] of rows.slice(0, 40)) console.log(v.ms.toFixed(2).padStart(7), v.n.toFixed(0).padStart(3), k.slice(0, 140));
}
main();
