/**
 * One backend's side of the GPU check (bench/gpu/check.ts runs it twice, TFJS_BACKEND=wasm and =webgpu):
 * every workload at "check" size, written to --out as JSON with each output's fingerprint.
 *
 *   TFJS_BACKEND=webgpu npx tsx bench/gpu/run-workloads.ts --out outputs/bench/gpu/webgpu.json
 */
import * as fs from "fs";
import * as path from "path";
import { engineLine, initEngine } from "../../lib/engine";
import { fingerprint, type Fingerprint } from "./compare";
import { WORKLOADS } from "./workloads";

async function main(): Promise<void> {
  const at = process.argv.indexOf("--out");
  if (at < 0 || !process.argv[at + 1]) throw new Error("usage: run-workloads.ts --out <file.json> [--only name,name]");
  const out = process.argv[at + 1];
  const onlyAt = process.argv.indexOf("--only");
  const only = onlyAt >= 0 ? new Set(process.argv[onlyAt + 1].split(",")) : null;
  const engine = await initEngine({ log: false });
  const results: Record<string, { seconds: number; values: Record<string, Fingerprint> }> = {};
  for (const workload of WORKLOADS) {
    if (only && !only.has(workload.name)) continue;
    const started = Date.now();
    const values = await workload.run("check");
    const seconds = (Date.now() - started) / 1000;
    results[workload.name] = { seconds, values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, fingerprint(v)])) };
    console.error(`${engine.backend}: ${workload.name} ${seconds.toFixed(1)} s`);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ engine: engineLine(engine), backend: engine.backend, adapter: engine.adapter ?? null, results }));
}

main().then(
  // Exit explicitly: a Dawn device may keep Node's event loop alive (check.ts tests that separately).
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
