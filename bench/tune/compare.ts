/**
 * Our samplers vs Optuna 3.1 (Debian python3-optuna) on the bench functions:
 * 10 seeds × the COLUMNS below × {branin, rosenbrock5, mixed3}, 50 trials each.
 * Writes bench/tune/results.json and the "Hyper-parameter tuning: our TPE vs Optuna" section of bench/README.md.
 *
 *   npm run tune:compare [-- --seeds 10 --trials 50 --extra-seeds 50 --python /usr/bin/python3]
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { percentileOf } from "../../lib/tune/pruners";
import { runBench, type BenchResult } from "./run";

const FUNCTIONS = ["branin", "rosenbrock5", "mixed3"];
/** [implementation, sampler, column title] */
const COLUMNS: [impl: "ours" | "optuna", sampler: string, title: string][] = [
  ["ours", "tpe", "ours TPE (default)"],
  ["ours", "tpe-optuna31", "ours TPE, Optuna 3.1 settings"],
  ["optuna", "tpe", "Optuna TPE (default)"],
  ["optuna", "tpe-mv", "Optuna TPE multivariate"],
  ["ours", "random", "ours random"],
  ["optuna", "random", "Optuna random"],
];
const SECTION = "## Hyper-parameter tuning: our TPE vs Optuna";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

interface Summary {
  fn: string;
  sampler: string;
  impl: string;
  median: number;
  q25: number;
  q75: number;
  meanSeconds: number;
}

function summarise(results: BenchResult[]): Summary[] {
  const out: Summary[] = [];
  for (const fn of FUNCTIONS) {
    for (const [impl, sampler] of COLUMNS) {
      {
        const rows = results.filter((r) => r.fn === fn && r.sampler === sampler && r.impl === impl);
        if (rows.length === 0) continue;
        const values = rows.map((r) => r.best_value);
        out.push({
          fn,
          sampler,
          impl,
          median: percentileOf(values, 50),
          q25: percentileOf(values, 25),
          q75: percentileOf(values, 75),
          meanSeconds: rows.reduce((s, r) => s + r.seconds, 0) / rows.length,
        });
      }
    }
  }
  return out;
}

const fmt = (x: number): string => (x === 0 ? "0" : Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2));

function renderSection(
  summaries: Summary[],
  seeds: number,
  trials: number,
  optunaVersion: string,
  extraSummaries: Summary[],
  extraSeeds: number[],
): string {
  const get = (fn: string, sampler: string, impl: string): Summary | undefined =>
    summaries.find((s) => s.fn === fn && s.sampler === sampler && s.impl === impl);
  const lines = [
    SECTION,
    "",
    `Best value after ${trials} trials, ${seeds} seeds (0…${seeds - 1}) per cell: median [25th–75th percentile]; lower is better.`,
    `"ours" is lib/tune, "optuna" is Optuna ${optunaVersion} (Debian python3-optuna) on the same objectives and search spaces`,
    "(bench/tune/functions.ts = bench/tune/optuna_ref.py). Both TPEs use Optuna's defaults: 10 random startup trials,",
    "24 EI candidates, γ(n) = min(⌈0.1·n⌉, 25), flat weights ramped beyond the newest 25, prior weight 1, magic clip.",
    "Ours differs by default in modelling the parameters jointly (multivariate, with Optuna 4's per-dimension",
    "neighbour bandwidths); \"Optuna 3.1 settings\" is `new TpeSampler({ ...OPTUNA_31_TPE, seed })`, which reproduces",
    "Optuna 3.1's default univariate TPE (its one-step proposal distribution matches Optuna's within sampling error).",
    "",
    `| function | ${COLUMNS.map((c) => c[2]).join(" | ")} |`,
    `|---|${COLUMNS.map(() => "---").join("|")}|`,
  ];
  for (const fn of FUNCTIONS) {
    const cells = COLUMNS.map(([impl, sampler]) => {
      const s = get(fn, sampler, impl);
      return s ? `${fmt(s.median)} [${fmt(s.q25)}–${fmt(s.q75)}]` : "—";
    });
    lines.push(`| ${fn} | ${cells.join(" | ")} |`);
  }
  lines.push("", "Bar (issue 7): our default TPE's median no worse than Optuna's default TPE, and clearly better than random search:", "");
  const misses: string[] = [];
  for (const fn of FUNCTIONS) {
    const ours = get(fn, "tpe", "ours");
    const optuna = get(fn, "tpe", "optuna");
    const random = get(fn, "random", "ours");
    if (!ours || !optuna || !random) continue;
    if (ours.median > optuna.median) misses.push(fn);
    const vsOptuna = ours.median <= optuna.median ? "no worse than Optuna ✔" : "WORSE than Optuna ✘";
    const vsRandom = ours.median < random.median ? `${(random.median / Math.max(ours.median, 1e-300)).toFixed(1)}× lower median than our random search ✔` : "not better than random ✘";
    lines.push(`- ${fn}: ours ${fmt(ours.median)} vs Optuna ${fmt(optuna.median)} → ${vsOptuna}; ${vsRandom}`);
  }
  lines.push(
    "",
    misses.length === 0
      ? "Verdict: the bar is met on all three functions with seeds 0…9."
      : `Verdict: with seeds 0…9 the bar is NOT met on ${misses.join(", ")}; the chance check below shows how much of that gap ten seeds can produce by luck alone.`,
  );
  if (extraSeeds.length > 0) {
    lines.push(
      "",
      `Chance check with ${extraSeeds.length} other seeds (${extraSeeds[0]}…${extraSeeds[extraSeeds.length - 1]}), default TPEs only:`,
      "",
      "| function | ours TPE (default) | Optuna TPE (default) |",
      "|---|---|---|",
    );
    for (const fn of FUNCTIONS) {
      const cell = (impl: string): string => {
        const s = extraSummaries.find((x) => x.fn === fn && x.sampler === "tpe" && x.impl === impl);
        return s ? `${fmt(s.median)} [${fmt(s.q25)}–${fmt(s.q75)}]` : "—";
      };
      lines.push(`| ${fn} | ${cell("ours")} | ${cell("optuna")} |`);
    }
  }
  lines.push(
    "",
    "Notes:",
    "",
    "- Optuna 3.1's `truncnorm.logpdf` leaves out the −log σ term (fixed in Optuna 3.5), so its TPE scores each Gaussian kernel",
    "  by its height relative to its own peak rather than as a normalised density. Our `peakNormalizedKernels: true` (default)",
    "  does the same on purpose: with proper densities (`peakNormalizedKernels: false`) narrow kernels around the few best",
    "  trials dominate l(x)/g(x), and on seeds 200…259 the univariate TPE got clearly worse (rosenbrock5 median ≈ 53 vs ≈ 26).",
    "- Fidelity check: given the same 30- or 45-trial history, 3000 proposals of ours (Optuna 3.1 settings) and of Optuna 3.1",
    "  have the same mean and standard deviation per parameter within sampling error (checked during development).",
    "- Our default (multivariate, Optuna-4 neighbour bandwidths, peak-normalised kernels) was chosen on seeds 200…259, not on",
    "  the seeds reported here; there it beat our Optuna-3.1 replica on all three medians (branin 0.46 vs 0.55,",
    "  rosenbrock5 25 vs 28, mixed3 5e-4 vs 4e-3). Its weak spot is rosenbrock5: bimodal, a quarter of the runs stay above ≈ 55.",
    "- Held-out search for a better default (after seeds 0…9 missed on rosenbrock5): `npx tsx bench/tune/select.ts` runs candidate",
    "  settings against the default on seeds 300…399 (100 seeds, 50 trials, paired by seed; never seeds 0…9). Medians (default:",
    "  branin 0.439, rosenbrock5 30.0, mixed3 3.4e-4) and paired wins/losses vs the default:",
    "  - 48 / 96 EI candidates: rosenbrock5 24.2 / 25.1 (57/43, 59/41) but mixed3 worse (5.3e-4, 4.6e-4; 46/54, 43/57);",
    "  - Optuna-3 (Scott-like) multivariate bandwidths: rosenbrock5 19.0 (66/34) but branin 0.585 (19/79), mixed3 1.3e-3 (28/72);",
    "  - prior weight 0.5 or 2, 5 start-up trials, endpoints in the bandwidths: no gain on all three (endpoints: rosenbrock5 77.5);",
    "  - γ(n) = min(⌈0.15·n⌉, 25): better on all three there (0.432, 26.1, 1.3e-4; 57/39, 61/39, 58/42), but its neighbours",
    "    0.125 and 0.175 were not (rosenbrock5 25.7 and 34.0, 48/51 and 49/51), and on a fresh confirmation block (seeds",
    "    400…499) it lost on rosenbrock5: 33.3 vs 26.2, 41/59 — a lucky spike, not an improvement.",
    "  So the default stays Optuna's. The rosenbrock5 gap at seeds 0…9 is within the seed-to-seed spread of both samplers:",
    "  our default's rosenbrock5 median is 19.3 (seeds 100…149), 30.0 (300…399) and 26.2 (400…499); Optuna's is 23.1 (0…9)",
    "  and 30.0 (100…149).",
    "",
    "Raw per-seed results: bench/tune/results.json. Re-run: `npm run tune:compare` (needs `apt-get install python3-optuna`; ~2 min on 2 cores).",
    "One run of ours: `npm run tune:bench -- --fn branin --sampler tpe --trials 50 --seed 0`.",
    "",
  );
  return lines.join("\n");
}

/** Replaces (or appends) only our section of bench/README.md; the rest of the file belongs to others. */
function writeSection(readmePath: string, section: string): void {
  const existing = fs.existsSync(readmePath) ? fs.readFileSync(readmePath, "utf8") : "# Benchmarks\n";
  const start = existing.indexOf(SECTION);
  let next: string;
  if (start < 0) {
    next = `${existing.replace(/\n*$/, "\n\n")}${section}`;
  } else {
    const after = existing.indexOf("\n## ", start + SECTION.length);
    next = existing.slice(0, start) + section + (after < 0 ? "" : existing.slice(after + 1));
  }
  fs.writeFileSync(readmePath, next);
}

async function main(): Promise<void> {
  const seeds = Number(arg("seeds", "10"));
  const trials = Number(arg("trials", "50"));
  const python = arg("python", "/usr/bin/python3");
  const seedList = Array.from({ length: seeds }, (_, i) => i);
  const results: BenchResult[] = [];
  let optunaVersion = "?";
  for (const fn of FUNCTIONS) {
    for (const [impl, sampler] of COLUMNS) {
      if (impl === "ours") {
        for (const seed of seedList) results.push(await runBench(fn, sampler, trials, seed));
        console.log(`${fn} / ours ${sampler}: done`);
        continue;
      }
      const output = execFileSync(
        python,
        [path.join(__dirname, "optuna_ref.py"), "--fn", fn, "--sampler", sampler, "--trials", String(trials), "--seeds", seedList.join(",")],
        { encoding: "utf8", maxBuffer: 16 << 20 },
      );
      for (const line of output.trim().split("\n")) {
        const row = JSON.parse(line) as BenchResult & { optuna_version: string };
        optunaVersion = row.optuna_version;
        results.push(row);
      }
      console.log(`${fn} / optuna ${sampler}: done`);
    }
  }
  // Ten seeds leave a wide margin of chance; a second, larger seed set (ours vs Optuna default TPE only) shows it.
  const extraSeeds = Array.from({ length: Number(arg("extra-seeds", "50")) }, (_, i) => 100 + i);
  const extra: BenchResult[] = [];
  if (extraSeeds.length > 0) {
    for (const fn of FUNCTIONS) {
      for (const seed of extraSeeds) extra.push(await runBench(fn, "tpe", trials, seed));
      const output = execFileSync(
        python,
        [path.join(__dirname, "optuna_ref.py"), "--fn", fn, "--sampler", "tpe", "--trials", String(trials), "--seeds", extraSeeds.join(",")],
        { encoding: "utf8", maxBuffer: 16 << 20 },
      );
      for (const line of output.trim().split("\n")) extra.push(JSON.parse(line) as BenchResult);
      console.log(`${fn} / extra seeds: done`);
    }
  }
  const summaries = summarise(results);
  const extraSummaries = summarise(extra);
  fs.writeFileSync(
    path.join(__dirname, "results.json"),
    `${JSON.stringify({ trials, seeds: seedList, optuna_version: optunaVersion, summaries, results, extra_seeds: extraSeeds, extra_summaries: extraSummaries, extra_results: extra }, null, 1)}\n`,
  );
  const section = renderSection(summaries, seeds, trials, optunaVersion, extraSummaries, extraSeeds);
  writeSection(path.join(__dirname, "..", "README.md"), section);
  console.log(section);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
