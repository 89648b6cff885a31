/**
 * `npm run gpu:check`: the one command to run on a machine with a GPU (NVIDIA + Vulkan, or any GPU Dawn can use).
 *
 *   1. machine: GPU (nvidia-smi), Vulkan devices (vulkaninfo), and what Dawn's probe finds — stops here without one;
 *   2. the engine on WebGPU: its line, and whether a script that used the GPU exits by itself;
 *   3. correctness: bench/gpu/workloads.ts at check size on wasm and on webgpu, compared within each one's tolerance;
 *   4. speed: `npm run bench` with TFJS_BACKEND=webgpu (ours vs PyTorch, as on the CPU), and the fusion network's
 *      5-fold CV (`npm run cv`) on webgpu and on wasm, same machine, back to back;
 *   5. writes outputs/bench/gpu/latest.json and outputs/bench/gpu/README-section.md (the figures, ready for
 *      bench/README.md's GPU section).
 *
 * Options: --skip-bench (steps 1–3 only, ~2 min), --runs N (bench repetitions, default 5), --cv-model <name>
 * (default NetEngagementPOIFinal). Exit code 0 when every comparison passes, 1 when one fails, 2 without a GPU adapter.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { outputsDir, PROJECT_ROOT } from "../../lib/data/paths";
import { resolveDataDir } from "../../lib/poi";
import { describeAdapter, probeWebGpu } from "../../lib/engine";
import { compareFingerprints, type Comparison, type Fingerprint } from "./compare";
import { WORKLOADS } from "./workloads";

const OUT = outputsDir("bench", "gpu");

function args(): { skipBench: boolean; runs: number; cvModel: string } {
  const argv = process.argv.slice(2);
  const value = (name: string) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  for (const a of argv) if (a.startsWith("--") && !["--skip-bench", "--runs", "--cv-model"].includes(a)) throw new Error(`unknown option ${a}`);
  return { skipBench: argv.includes("--skip-bench"), runs: Number(value("--runs") ?? 5), cvModel: value("--cv-model") ?? "NetEngagementPOIFinal" };
}

function sh(command: string, argv: string[], options: { env?: Record<string, string>; timeoutS?: number; live?: boolean } = {}) {
  const started = Date.now();
  const result = spawnSync(command, argv, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
    timeout: (options.timeoutS ?? 600) * 1000,
    killSignal: "SIGKILL",
    maxBuffer: 256 * 1024 * 1024,
    stdio: options.live ? ["ignore", "pipe", "inherit"] : "pipe",
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout ?? "", stderr: result.stderr ?? "", seconds: (Date.now() - started) / 1000, error: result.error };
}

function firstLines(text: string, n: number): string {
  return text.trim().split("\n").slice(0, n).join("\n");
}

function machine(): Record<string, string> {
  const info: Record<string, string> = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown"}`,
    loadAverage: os.loadavg()[0].toFixed(2),
  };
  const smi = sh("nvidia-smi", ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"], { timeoutS: 30 });
  info.nvidiaSmi = smi.status === 0 ? smi.stdout.trim() : "nvidia-smi not available";
  const vk = sh("vulkaninfo", ["--summary"], { timeoutS: 60 });
  info.vulkan = vk.status === 0 ? firstLines(vk.stdout.split("Devices:")[1] ?? vk.stdout, 12) : "vulkaninfo not available (Debian: apt-get install vulkan-tools)";
  return info;
}

/** A script that starts WebGPU, computes, and returns: does Node exit by itself (Dawn's device may hold it)? */
function exitCheck(): { exitsBySelf: boolean; seconds: number; line: string } {
  const code = `require("./lib/engine").initEngine().then(async () => { const tf = require("@tensorflow/tfjs"); await tf.square(tf.ones([256, 256])).data(); });`;
  const result = sh(process.execPath, ["--import", "tsx", "-e", code], { env: { TFJS_BACKEND: "webgpu" }, timeoutS: 90 });
  return { exitsBySelf: result.status === 0 && result.signal === null, seconds: result.seconds, line: result.stdout.trim().split("\n")[0] ?? "" };
}

type BackendRun = { engine: string; results: Record<string, { seconds: number; values: Record<string, Fingerprint> }> };

function runWorkloads(backend: "wasm" | "webgpu"): BackendRun {
  const file = path.join(OUT, `workloads-${backend}.json`);
  console.log(`  workloads on ${backend} …`);
  const result = sh(process.execPath, ["--import", "tsx", path.join("bench", "gpu", "run-workloads.ts"), "--out", file], { env: { TFJS_BACKEND: backend }, timeoutS: 900, live: true });
  if (result.status !== 0) throw new Error(`workloads on ${backend} failed (exit ${result.status}${result.signal ? `, ${result.signal}` : ""}):\n${result.stdout}`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as BackendRun;
}

interface WorkloadVerdict {
  workload: string;
  pass: boolean;
  worst: Comparison;
  failed: Comparison[];
  secondsWasm: number;
  secondsWebgpu: number;
}

function compare(wasm: BackendRun, webgpu: BackendRun): WorkloadVerdict[] {
  return WORKLOADS.map(({ name, tolerance }) => {
    const reference = wasm.results[name];
    const ours = webgpu.results[name];
    const comparisons = Object.keys(reference.values).map((key) =>
      ours.values[key]
        ? compareFingerprints(key, ours.values[key], reference.values[key], tolerance)
        : { key, worst: Infinity, maxAbsDiff: Infinity, pass: false, note: "missing on webgpu" },
    );
    const worst = comparisons.reduce((a, b) => (b.worst > a.worst ? b : a));
    const failed = comparisons.filter((c) => !c.pass);
    return { workload: name, pass: failed.length === 0, worst, failed, secondsWasm: reference.seconds, secondsWebgpu: ours.seconds };
  });
}

function bench(runs: number): Record<string, { ours: number; reference: number | null; ratio: number | null; unit: string }> | { error: string } {
  console.log(`  npm run bench on webgpu (--runs ${runs}) …`);
  const result = sh(process.execPath, ["--import", "tsx", path.join("bench", "engine", "run.ts"), "--runs", String(runs)], {
    env: { TFJS_BACKEND: "webgpu" },
    timeoutS: 1800,
    live: true,
  });
  process.stdout.write(result.stdout);
  const file = outputsDir("bench", "latest.json");
  if (result.status !== 0 && result.status !== 2) return { error: `npm run bench exited ${result.status}${result.signal ? ` (${result.signal})` : ""}` };
  const figures = JSON.parse(fs.readFileSync(file, "utf8"));
  fs.copyFileSync(file, path.join(OUT, "bench-webgpu.json"));
  return figures;
}

/** 5-fold CV of a fusion network; `seconds` sums the folds' training (embeddings come from the shared cache). */
function cv(model: string, backend: "wasm" | "webgpu"): { seconds: number; wallSeconds: number; accuracy?: number; f1Macro?: number; error?: string } {
  console.log(`  npm run cv -- --model ${model} on ${backend} …`);
  const result = sh(process.execPath, ["--import", "tsx", path.join("scripts", "cv.ts"), "--model", model, "--no-track"], { env: { TFJS_BACKEND: backend }, timeoutS: 1800 });
  const folds = [...result.stderr.matchAll(/fold \d+\/\d+: .*\(([\d.]+) s\)/g)].map((m) => Number(m[1]));
  const seconds = folds.reduce((a, b) => a + b, 0);
  if (result.status !== 0) {
    return { seconds, wallSeconds: result.seconds, error: `exit ${result.status}${result.signal ? ` (${result.signal})` : ""}: ${result.stderr.trim().split("\n").slice(-3).join(" / ")}` };
  }
  const summary = JSON.parse(result.stdout.trim().split("\n").reverse().find((l) => l.startsWith("{")) ?? "{}") as { accuracy_mean?: number; macro_f1_mean?: number };
  return { seconds, wallSeconds: result.seconds, accuracy: summary.accuracy_mean, f1Macro: summary.macro_f1_mean };
}

function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || Number.isNaN(v) ? "—" : v.toFixed(v >= 100 ? 0 : digits);
}

async function main(): Promise<void> {
  const options = args();
  fs.mkdirSync(OUT, { recursive: true });
  console.log("1. machine");
  const host = machine();
  for (const [k, v] of Object.entries(host)) console.log(`  ${k}: ${v.replace(/\n/g, "\n    ")}`);
  const probe = await probeWebGpu();
  if ("reason" in probe) {
    console.log(`\nno WebGPU adapter: ${probe.reason}`);
    console.log("Fix: a GPU driver with Vulkan (NVIDIA: the proprietary driver's Vulkan ICD; `vulkaninfo --summary` must list the GPU), then re-run.");
    fs.writeFileSync(path.join(OUT, "latest.json"), `${JSON.stringify({ host, adapter: null, reason: probe.reason }, null, 2)}\n`);
    process.exitCode = 2;
    return;
  }
  const gpuName = describeAdapter(probe.adapter);
  console.log(`  Dawn's adapter: ${gpuName}`);

  console.log("2. the engine on WebGPU");
  const exit = exitCheck();
  console.log(`  ${exit.line}`);
  console.log(`  a script that used the GPU ${exit.exitsBySelf ? "exits by itself" : "does NOT exit by itself (killed after 90 s): Dawn's device holds the event loop"} (${exit.seconds.toFixed(1)} s)`);

  console.log("3. correctness: webgpu against wasm");
  const wasm = runWorkloads("wasm");
  const webgpu = runWorkloads("webgpu");
  const verdicts = compare(wasm, webgpu);
  for (const v of verdicts) {
    console.log(`  ${v.pass ? "ok  " : "FAIL"} ${v.workload}: worst ${v.worst.key} at ${fmt(v.worst.worst)} of the tolerance (|Δ| ${v.worst.maxAbsDiff.toExponential(2)})${v.failed.length ? `; failed: ${v.failed.map((c) => c.key).slice(0, 8).join(", ")}` : ""}`);
  }

  let benchFigures: ReturnType<typeof bench> | null = null;
  const cvRuns: Record<string, ReturnType<typeof cv>> = {};
  if (!options.skipBench) {
    console.log("4. speed");
    benchFigures = bench(options.runs);
    let haveData = true;
    try {
      resolveDataDir();
    } catch {
      haveData = false;
    }
    if (haveData) for (const backend of ["webgpu", "wasm"] as const) cvRuns[backend] = cv(options.cvModel, backend);
    else console.log("  fusion-network CV skipped: no POI data (POI_DATA_DIR, data/poi or ../shared/data/poi)");
  }

  const report = { host, adapter: probe.adapter, engine: webgpu.engine, exit, tolerances: Object.fromEntries(WORKLOADS.map((w) => [w.name, w.tolerance])), verdicts, bench: benchFigures, cv: cvRuns };
  fs.writeFileSync(path.join(OUT, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);

  const md: string[] = [];
  md.push(`### WebGPU on ${gpuName} (${host.date.slice(0, 16).replace("T", " ")} UTC, \`npm run gpu:check\`)`, "");
  md.push(`Machine: ${host.cpu}, load average ${host.loadAverage}; ${host.nvidiaSmi}; Node ${host.node}.`, "");
  md.push(`Engine: \`${webgpu.engine}\`. A script that used the GPU ${exit.exitsBySelf ? "exits by itself" : "does not exit by itself"}.`, "");
  md.push("| check (webgpu vs wasm) | tolerance | worst output | share of tolerance | result | s wasm | s webgpu |", "|---|---|---|---|---|---|---|");
  for (const v of verdicts) {
    const t = WORKLOADS.find((w) => w.name === v.workload)!.tolerance;
    md.push(`| ${v.workload} | rtol ${t.rtol}, atol ${t.atol} | ${v.worst.key} | ${fmt(v.worst.worst)} | ${v.pass ? "pass" : "**FAIL**"} | ${fmt(v.secondsWasm, 1)} | ${fmt(v.secondsWebgpu, 1)} |`);
  }
  if (benchFigures && !("error" in benchFigures)) {
    md.push("", "| benchmark (TFJS_BACKEND=webgpu) | ours | PyTorch (CPU) | ours / PyTorch |", "|---|---|---|---|");
    for (const [name, e] of Object.entries(benchFigures)) md.push(`| ${name} (${e.unit}) | ${fmt(e.ours)} | ${fmt(e.reference)} | ${fmt(e.ratio)} |`);
  } else if (benchFigures) md.push("", `npm run bench on webgpu: ${benchFigures.error}`);
  if (Object.keys(cvRuns).length > 0) {
    md.push("", `| ${options.cvModel} 5-fold CV (\`npm run cv\`) | training s (sum of folds) | wall s | accuracy | macro-F1 |`, "|---|---|---|---|---|");
    for (const [backend, r] of Object.entries(cvRuns)) md.push(`| ${backend} | ${fmt(r.seconds, 1)} | ${fmt(r.wallSeconds, 1)} | ${r.error ? r.error : fmt(r.accuracy)} | ${r.error ? "" : fmt(r.f1Macro)} |`);
  }
  fs.writeFileSync(path.join(OUT, "README-section.md"), `${md.join("\n")}\n`);
  console.log(`\n${md.join("\n")}\n\nwritten: ${path.relative(PROJECT_ROOT, path.join(OUT, "latest.json"))}, ${path.relative(PROJECT_ROOT, path.join(OUT, "README-section.md"))}`);
  process.exitCode = verdicts.every((v) => v.pass) ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
