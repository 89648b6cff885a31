import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../lib/data";

/** lib/'s folders in data-flow order: a folder imports only folders before it (README "Layout"). */
const LAYERS = ["util", "data", "features", "poi", "images", "viz", "engine", "track", "train", "models", "tune", "eval", "experiments", "report"];
/** Folders that stay free of TensorFlow.js, so tables, splits, tracking and tuning load in a blink. */
const NO_TFJS = new Set(["util", "data", "features", "poi", "viz", "track", "tune"]);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith(".ts") ? [full] : [];
  });
}

test("lib/ folders import only the folders before them in the data flow, and the light ones no TensorFlow.js", () => {
  const libDir = path.join(PROJECT_ROOT, "lib");
  const folders = fs.readdirSync(libDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((f) => !LAYERS.includes(f)), [], "a new lib/ folder needs its place in LAYERS (and the README)");
  const problems: string[] = [];
  for (const folder of folders) {
    for (const file of sourceFiles(path.join(libDir, folder))) {
      const text = fs.readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:from\s+|require\()\s*["']([^"']+)["']/g)) {
        const spec = m[1];
        const where = `${path.relative(PROJECT_ROOT, file)} imports ${spec}`;
        if (spec.startsWith(".")) {
          const target = path.relative(libDir, path.resolve(path.dirname(file), spec)).split(path.sep)[0];
          if (target !== folder && LAYERS.indexOf(target) > LAYERS.indexOf(folder)) problems.push(`${where} (a later folder)`);
        } else if (spec.startsWith("@tensorflow/") && NO_TFJS.has(folder)) {
          problems.push(`${where} (TensorFlow.js in a light folder)`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});
