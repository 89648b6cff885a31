import { test } from "node:test";
import assert from "node:assert/strict";
import { sampleBilinear, sampleBilinearFast, type Fill } from "../../lib/images/resize";
import { createRng } from "../../lib/util";

test("sampleBilinearFast gives exactly sampleBilinear's values (inside, on and beyond the border, every fill)", () => {
  const rng = createRng(5);
  const image = { width: 7, height: 5, data: Float32Array.from({ length: 7 * 5 * 3 }, () => rng.uniform(0, 255)) };
  const fills: Fill[] = [0, 17.5, [1, 2, 3], "reflect", "nearest"];
  const a = new Float32Array(3);
  const b = new Float32Array(3);
  const points: Array<[number, number]> = [];
  for (let i = 0; i < 4000; i++) points.push([rng.uniform(-3, 10), rng.uniform(-3, 8)]);
  for (let x = -1; x <= 7; x++) for (let y = -1; y <= 5; y++) points.push([x, y], [x + 0.5, y], [x, y + 0.25]); // integer and half coordinates
  for (const fill of fills) {
    for (const [x, y] of points) {
      sampleBilinear(image, x, y, fill, a, 0);
      sampleBilinearFast(image, x, y, fill, b, 0);
      assert.deepEqual(Array.from(b), Array.from(a), `(${x}, ${y}) fill ${JSON.stringify(fill)}`);
    }
  }
});
