/**
 * `npm run bench`: the compute-engine benchmarks, ours against PyTorch on the same machine in the same run.
 *
 *   1. mobilenet_v2_embedding  frozen MobileNetV2 224×224, batch 32: images/s on the engine's embedding path
 *                              (ONNX Runtime on CPU backends; target ≥ 4.0× PyTorch), and on tfjs for the record
 *   2. small_cnn_epoch         conv16-bn-pool-conv32-gap-dense, 256×64×64, batch 32, Adam: s/epoch of lib/train's fit
 *                              (its fused step on the native kernels; target ≤ 1.0× PyTorch); also reported with
 *                              TensorFlow.js ops (fastPath: false, the path without a C compiler; no target)
 *   3. embed_all_images        all dataset images: decode + resize + forward + cache write: wall s, peak RSS MB (≤ 2 GB)
 *   4. new_preset              a preset no cache holds: 1133 training photos × 2 variants at 224 and 128 px, augmented
 *                              and embedded (notebook 04's work for it, after its other presets): wall s (target ≤ 30 s),
 *                              PyTorch + torchvision beside; also one pass without the decoded pixels earlier presets kept
 *   5. fusion_cv_5fold         NetEngagementPOIFinal's grouped 5-fold CV (npm run cv), training + test evaluation on the
 *                              same exported folds (bench/engine/fusion-cv.ts, torch_fusion_cv.py): s (target ≤ 1.0×
 *                              PyTorch at its faster thread count, 1 or all cores)
 *   Training rows (2, 5) run in paired rounds (--rounds, default 3): ours then PyTorch, back to back; the ratio is the
 *   median of the per-round ratios.
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
import { pairedRounds } from "./paired";
import { trainingPhotos } from "./photos";

const PYTHON = "/usr/bin/python3";
const INSTALL_HINT = "apt-get install -y --no-install-recommends python3-torch python3-torchvision";

type Which = "mobilenet" | "smallcnn" | "embed-all" | "new-preset" | "fusion-cv";
/** What ours.ts can measure: the benchmarks, plus the small CNN with the stock conv2d/batchNormalization layers and MobileNetV2 on tfjs. */
type OursWhich = Which | "smallcnn-ops" | "mobilenet-tfjs";

interface Measurement {
  value: number;
  unit: string;
  samples?: number[];
  peakRssMb?: number;
  [key: string]: unknown;
}

interface Entry {
  /** Median of the repeats (or the single timed pass). */
  ours: number;
  reference: number | null;
  ratio: number | null;
  unit: string;
  /** [min, max] over the repeats, when there were several. */
  oursRange?: [number, number];
  referenceRange?: [number, number];
  /** Paired rounds (training rows): range of the per-round ratios. */
  ratioRange?: [number, number];
}

function parseArgs(argv: string[]): { only: Set<Which>; runs: number; rounds: number } {
  const all: Which[] = ["mobilenet", "smallcnn", "embed-all", "new-preset", "fusion-cv"];
  let only = new Set<Which>(all);
  let runs = 5;
  let rounds = 3;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--only") {
      const names = argv[++i].split(",") as Which[];
      for (const name of names) if (!all.includes(name)) throw new Error(`--only: unknown benchmark ${name} (${all.join(", ")})`);
      only = new Set(names);
    } else if (argv[i] === "--runs") {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 5) throw new Error("--runs: at least 5 (the median of ≥ 5 runs is reported)");
    } else if (argv[i] === "--rounds") {
      rounds = Number(argv[++i]);
      if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds: a positive integer (paired rounds of the training rows)");
    } else throw new Error(`unknown argument ${argv[i]}; use --only a,b, --runs N and --rounds N`);
  }
  return { only, runs, rounds };
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

function ours(which: OursWhich, runs: number, extra: string[] = []): Measurement {
  return run(`ours  ${which}`, process.execPath, ["--import", "tsx", path.join("bench", "engine", "ours.ts"), which, "--runs", String(runs), ...extra]);
}

function reference(which: Which, runs: number, extra: string[] = []): Measurement | null {
  if (!torchAvailable) return null;
  const args = [path.join("bench", "engine", "torch_ref.py"), which, "--runs", String(runs), "--threads", String(os.cpus().length), ...extra];
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

function range(samples: number[] | undefined): [number, number] | undefined {
  return samples && samples.length > 1 ? [Math.min(...samples), Math.max(...samples)] : undefined;
}

function entry(oursValue: number, referenceValue: number | null, unit: string, oursSamples?: number[], referenceSamples?: number[]): Entry {
  return {
    ours: oursValue,
    reference: referenceValue,
    ratio: referenceValue ? oursValue / referenceValue : null,
    unit,
    oursRange: range(oursSamples),
    referenceRange: range(referenceSamples),
  };
}

function main(): void {
  const { only, runs, rounds } = parseArgs(process.argv.slice(2));
  const loadBefore = os.loadavg()[0];
  console.log(`machine: ${os.cpus().length} logical cores (${os.cpus()[0]?.model ?? "unknown CPU"}), load average ${os.loadavg()[0].toFixed(2)}`);
  const results: Record<string, Entry> = {};
  if (only.has("mobilenet")) {
    const a = ours("mobilenet", runs);
    const b = reference("mobilenet", runs);
    const tfjs = ours("mobilenet-tfjs", runs);
    results.mobilenet_v2_embedding = entry(a.value, b?.value ?? null, "img/s", a.samples, b?.samples);
    results.mobilenet_v2_embedding_tfjs = entry(tfjs.value, b?.value ?? null, "img/s", tfjs.samples, b?.samples);
  }
  if (only.has("smallcnn")) {
    const paired = pairedRounds(rounds, "s/epoch", () => ours("smallcnn", runs).value, torchAvailable ? () => (reference("smallcnn", runs) as Measurement).value : null);
    results.small_cnn_epoch = paired;
    // For the record: the same fit with TensorFlow.js ops, the path where the native kernels cannot be built.
    const ops = ours("smallcnn-ops", runs);
    results.small_cnn_epoch_ops = entry(ops.value, paired.reference, "s/epoch", ops.samples);
  }
  if (only.has("fusion-cv")) {
    // Both sides train on the folds exported once from our protocol (identical arrays); PyTorch at 1 thread and at
    // all cores, the faster of the two being the reference (tiny MLPs often run faster on one thread).
    const folds = fs.mkdtempSync(path.join(os.tmpdir(), "fusion-cv-folds-"));
    try {
      const script = path.join("bench", "engine", "fusion-cv.ts");
      run("ours  fusion-cv export", process.execPath, ["--import", "tsx", script, "export", folds]);
      const torchCv = (threads: number): number =>
        run(`torch fusion-cv (${threads} thread${threads > 1 ? "s" : ""})`, PYTHON, [path.join("bench", "engine", "torch_fusion_cv.py"), folds, "--threads", String(threads)]).value;
      results.fusion_cv_5fold = pairedRounds(
        rounds,
        "s",
        () => run("ours  fusion-cv", process.execPath, ["--import", "tsx", script, "time"]).value,
        torchAvailable ? () => Math.min(torchCv(os.cpus().length), torchCv(1)) : null,
      );
    } finally {
      fs.rmSync(folds, { recursive: true, force: true });
    }
  }
  if (only.has("embed-all")) {
    const a = ours("embed-all", runs);
    const b = reference("embed-all", runs);
    results.embed_all_images_wall = entry(a.value, b?.value ?? null, "s");
    results.embed_all_images_peak_rss = entry(a.peakRssMb ?? NaN, b?.peakRssMb ?? null, "MB");
  }
  if (only.has("new-preset")) {
    // Ours: --runs passes (about 25 s each) after the clean rows and one other preset, then one pass without decoded
    // pixels, in a temporary cache; PyTorch: one timed pass (about two minutes).
    const seed = "0";
    const photos = outputsDir("bench", "new-preset-photos.json");
    fs.mkdirSync(path.dirname(photos), { recursive: true });
    fs.writeFileSync(photos, JSON.stringify(trainingPhotos()));
    const a = ours("new-preset", runs, ["--seed", seed]);
    const b = reference("new-preset", runs, ["--files", photos, "--seed", seed]);
    results.new_preset_augment_embed = entry(a.value, b?.value ?? null, "s", a.samples);
    results.new_preset_augment_embed_cold = entry(a.coldSeconds as number, b?.value ?? null, "s");
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
    rounds,
  };
  fs.writeFileSync(outputsDir("bench", "latest-machine.json"), `${JSON.stringify(machine, null, 2)}\n`);

  console.log("\n| benchmark | ours: median [min–max] | PyTorch: median [min–max] | ratio (ours/PyTorch) | target | met |");
  console.log("|---|---|---|---|---|---|");
  // Throughputs (img/s) are better higher, times lower: each target says which way it reads.
  const targets: Record<string, { text: string; met: (e: Entry) => boolean | null }> = {
    mobilenet_v2_embedding: { text: "ratio ≥ 4.0", met: (e) => (e.ratio === null ? null : e.ratio >= 4.0) },
    mobilenet_v2_embedding_tfjs: { text: "(reported: the tfjs path)", met: () => null },
    small_cnn_epoch: { text: "ratio ≤ 1.0", met: (e) => (e.ratio === null ? null : e.ratio <= 1.0) },
    fusion_cv_5fold: { text: "ratio ≤ 1.0", met: (e) => (e.ratio === null ? null : e.ratio <= 1.0) },
    small_cnn_epoch_ops: { text: "(reported)", met: () => null },
    embed_all_images_wall: { text: "(reported)", met: () => null },
    embed_all_images_peak_rss: { text: "ours ≤ 2048 MB", met: (e) => e.ours <= 2048 },
    new_preset_augment_embed: { text: "ours ≤ 30 s", met: (e) => e.ours <= 30 },
    new_preset_augment_embed_cold: { text: "(reported: no decoded pixels kept)", met: () => null },
  };
  const fmt = (v: number | null) => (v === null ? "—" : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 3));
  const withRange = (v: number | null, r?: [number, number]) => (r ? `${fmt(v)} [${fmt(r[0])}–${fmt(r[1])}]` : fmt(v));
  for (const [name, e] of Object.entries(results)) {
    const target = targets[name] ?? { text: "(reported)", met: () => null };
    const met = target.met(e);
    console.log(
      `| ${name} (${e.unit}) | ${withRange(e.ours, e.oursRange)} | ${withRange(e.reference, e.referenceRange)} | ${e.ratioRange ? `${fmt(e.ratio)} [${fmt(e.ratioRange[0])}–${fmt(e.ratioRange[1])}]` : fmt(e.ratio)} | ${target.text} | ${met === null ? "—" : met ? "✔" : "✘"} |`,
    );
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
