import { test } from "node:test";
import assert from "node:assert/strict";
import { createProgress, formatSeconds } from "../../lib/util";

test("formatSeconds: seconds, then minutes, then hours", () => {
  assert.equal(formatSeconds(41.6), "42 s");
  assert.equal(formatSeconds(185), "3 min 05 s");
  assert.equal(formatSeconds(3725), "1 h 02 min");
});

test("progress lines show done/total, the rate and an ETA at that rate; the final line has no ETA", async () => {
  const lines: string[] = [];
  const original = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    const progress = createProgress("embedding", 10, { unit: "images", intervalMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    progress.tick(5);
    progress.tick(5);
    progress.done("0 more from the cache");
  } finally {
    console.log = original;
  }
  const half = lines[0].match(/^embedding: 5\/10 images \(50%\), [\d.]+ s, ([\d.]+) images\/s, ETA (\d+) s$/);
  assert.ok(half, lines[0]);
  // Half done at r images/s: the rest takes 5 / r seconds.
  assert.ok(Math.abs(Number(half[2]) - 5 / Number(half[1])) <= 1, lines[0]);
  assert.match(lines[lines.length - 1], /^embedding: 10\/10 images \(100%\), [\d.]+ s, [\d.]+ images\/s — 0 more from the cache$/);
});
