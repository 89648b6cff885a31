/**
 * `npm run bench`: the compute-engine benchmarks, ours against PyTorch on the same machine in the same run.
 *
 *   1. mobilenet_v2_embedding  frozen MobileNetV2 224×224, batch 32: images/s        (target ≥ 1.0× PyTorch)
 *   2. small_cnn_epoch         conv16-bn-pool-conv32-gap-dense, 256×64×64, batch 32, Adam: s/epoch (target ≤ 2× PyTorch),
 *                              with lib/engine's conv2d layer; also reported with stock tf.layers.conv2d (no target)
 *   3. embed_all_images        all dataset images: decode + resize + forward + cache write: wall s, peak RSS MB (≤ 2 GB)
 *
 * Each measurement runs in a fresh process (ours: node; reference: /usr/bin/python3 with Debian's torch,
 * torch.set_num_threads(<cores>)); warm-up first, then the median of --runs (default 5) repetitions.
 * Writes outputs/bench/latest.json as {"name": {"ours", "reference", "ratio", "unit"}} (ratio = ours / reference).
 *
 *   npm run bench                      # everything (~5 min on 2 cores)
 *   npm run bench -- --only mobilenet,smallcnn --runs 7
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { outputsDir, PROJECT_ROOT } from "../../lib/data";
import { resolveDataDir } from "../../lib/poi";

const PYTHON = "/usr/bin/python3";
const INSTALL_HINT = "apt-get install -y --no-install-recommends python3-torch python3-torchvision";

type Which = "mobilenet" | "smallcnn" | "embed-all";
/** What ours.ts can measure: the benchmarks, plus the small CNN built with stock tf.layers.conv2d. */
type OursWhich = Which | "smallcnn-stock-conv";

interface Measurement {
  value: number;
  unit: string;
  samples?: number[];
  peakRssMb?: number;
  [key: string]: unknown;
}

interface Entry {
  ours: number;
  reference: number | null;
  ratio: number | null;
  unit: string;
}

function parseArgs(argv: string[]): { only: Set<Which>; runs: number } {
  const all: Which[] = ["mobilenet", "smallcnn", "embed-all"];
  let only = new Set<Which>(all);
  let runs = 5;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--only") {
      const names = argv[++i].split(",") as Which[];
      for (const name of names) if (!all.includes(name)) throw new Error(`--only: unknown benchmark ${name} (${all.join(", ")})`);
      only = new Set(names);
    } else if (argv[i] === "--runs") {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 5) throw new Error("--runs: at least 5 (the median of ≥ 5 runs is reported)");
    } else throw new Error(`unknown argument ${argv[i]}; use --only a,b and --runs N`);
  }
  return { only, runs };
}

function lastJsonLine(stdout: string): Measurement {
  const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  if (!line) throw new Error("no JSON result line");
  return JSON.parse(line) as Measurement;
}

function run(label: string, command: string, args: string[]): Measurement {
  process.stdout.write(`  ${label} … `);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: PROJECT_ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    console.log("failed");
    throw new Error(`${label} failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
  }
  const measurement = lastJsonLine(result.stdout);
  console.log(`${measurement.value.toFixed(3)} ${measurement.unit} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  return measurement;
}

function ours(which: OursWhich, runs: number): Measurement {
  return run(`ours  ${which}`, process.execPath, ["--import", "tsx", path.join("bench", "engine", "ours.ts"), which, "--runs", String(runs)]);
}

function reference(which: Which, runs: number): Measurement | null {
  if (!torchAvailable) return null;
  const args = [path.join("bench", "engine", "torch_ref.py"), which, "--runs", String(runs), "--threads", String(os.cpus().length)];
  if (which === "embed-all") args.push("--data-dir", resolveDataDir());
  return run(`torch ${which}`, PYTHON, args);
}

function checkTorch(): boolean {
  const probe = spawnSync(PYTHON, ["-c", "import torch, torchvision; print(torch.__version__)"], { encoding: "utf8" });
  if (probe.status === 0) {
    console.log(`reference: PyTorch ${probe.stdout.trim()} (${PYTHON}), ${os.cpus().length} threads`);
    return true;
  }
  console.log(
    `reference: PyTorch is not available to ${PYTHON}, so only our figures are measured.\n` +
      `  Install it (Debian/Ubuntu, as root):  ${INSTALL_HINT}\n`,
  );
  return false;
}

const torchAvailable = checkTorch();

function entry(oursValue: number, referenceValue: number | null, unit: string): Entry {
  return { ours: oursValue, reference: referenceValue, ratio: referenceValue ? oursValue / referenceValue : null, unit };
}

function main(): void {
  const { only, runs } = parseArgs(process.argv.slice(2));
  const loadBefore = os.loadavg()[0];
  console.log(`machine: ${os.cpus().length} logical cores (${os.cpus()[0]?.model ?? "unknown CPU"}), load average ${os.loadavg()[0].toFixed(2)}`);
  const results: Record<string, Entry> = {};
  if (only.has("mobilenet")) {
    const a = ours("mobilenet", runs);
    const b = reference("mobilenet", runs);
    results.mobilenet_v2_embedding = entry(a.value, b?.value ?? null, "img/s");
  }
  if (only.has("smallcnn")) {
    const a = ours("smallcnn", runs);
    const b = reference("smallcnn", runs);
    results.small_cnn_epoch = entry(a.value, b?.value ?? null, "s/epoch");
    // For the record: the same network with stock tf.layers.conv2d, whose fused training op also computes the
    // gradient for the network's input (lib/engine's conv2d layer does not; see lib/engine/layers.ts).
    const stock = ours("smallcnn-stock-conv", runs);
    results.small_cnn_epoch_stock_conv_layers = entry(stock.value, b?.value ?? null, "s/epoch");
  }
  if (only.has("embed-all")) {
    const a = ours("embed-all", runs);
    const b = reference("embed-all", runs);
    results.embed_all_images_wall = entry(a.value, b?.value ?? null, "s");
    results.embed_all_images_peak_rss = entry(a.peakRssMb ?? NaN, b?.peakRssMb ?? null, "MB");
  }
  const file = outputsDir("bench", "latest.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  // Other processes competing for the cores change both sides (PyTorch's OpenMP threads suffer most): keep the context.
  const machine = {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    loadAverageBefore: loadBefore,
    loadAverageAfter: os.loadavg()[0],
    runs,
  };
  fs.writeFileSync(outputsDir("bench", "latest-machine.json"), `${JSON.stringify(machine, null, 2)}\n`);

  console.log("\n| benchmark | ours | PyTorch | ratio (ours/PyTorch) | target | met |");
  console.log("|---|---|---|---|---|---|");
  const targets: Record<string, { text: string; met: (e: Entry) => boolean | null }> = {
    mobilenet_v2_embedding: { text: "ratio ≥ 1.0", met: (e) => (e.ratio === null ? null : e.ratio >= 1.0) },
    small_cnn_epoch: { text: "ratio ≤ 2.0", met: (e) => (e.ratio === null ? null : e.ratio <= 2.0) },
    small_cnn_epoch_stock_conv_layers: { text: "(reported)", met: () => null },
    embed_all_images_wall: { text: "(reported)", met: () => null },
    embed_all_images_peak_rss: { text: "ours ≤ 2048 MB", met: (e) => e.ours <= 2048 },
  };
  for (const [name, e] of Object.entries(results)) {
    const met = targets[name].met(e);
    const fmt = (v: number | null) => (v === null ? "—" : v.toFixed(v >= 100 ? 0 : 3));
    console.log(`| ${name} (${e.unit}) | ${fmt(e.ours)} | ${fmt(e.reference)} | ${fmt(e.ratio)} | ${targets[name].text} | ${met === null ? "—" : met ? "yes" : "NO"} |`);
  }
  console.log(`\nwritten: ${path.relative(PROJECT_ROOT, file)} (machine and load: latest-machine.json)`);
  if (Math.max(loadBefore, machine.loadAverageAfter) > os.cpus().length * 0.5) {
    console.log(
      `note: load average ${loadBefore.toFixed(1)} → ${machine.loadAverageAfter.toFixed(1)} on ${os.cpus().length} cores: other processes ` +
        "were competing for the CPU, which slows PyTorch (OpenMP) far more than us; re-run on a quiet machine for figures that compare.",
    );
  }
  if (!torchAvailable) {
    console.log(`PyTorch reference missing: ${INSTALL_HINT}`);
    process.exitCode = 2;
  }
}

main();
