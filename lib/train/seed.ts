/**
 * TensorFlow.js draws weight initialisers and dropout masks from seeds it takes from `Math.random()`
 * when a layer has no explicit seed. `withSeed` runs synchronous code with `Math.random` temporarily
 * replaced by our seeded generator, so model construction and training steps repeat exactly.
 *
 *   const model = withSeed(42, () => buildMlp(...));   // same initial weights every time
 */
import { createRng, type Rng } from "../util/random";

export function withSeed<T>(seed: number | Rng, fn: () => T): T {
  const rng = typeof seed === "number" ? createRng(seed) : seed;
  const original = Math.random;
  Math.random = () => rng.next();
  try {
    const result = fn();
    if (result && typeof (result as { then?: unknown }).then === "function") {
      throw new Error("withSeed: the function must be synchronous (Math.random is only replaced while it runs)");
    }
    return result;
  } finally {
    Math.random = original;
  }
}
