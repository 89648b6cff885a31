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
import { chanceBelow, formatValue as fmt, option } from "./cli";
import { runBench, type BenchResult } from "./run";

/** Issue 7's bar. */
const FUNCTIONS = ["branin", "rosenbrock5", "mixed3"];
/** Reported for reference only: never used to choose defaults and not part of the bar (bench/tune/functions.ts). */
const VALIDATION = ["hartmann6", "styblinski5", "hpo6"];
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


interface Summary {
  fn: string;
  sampler: string;
  impl: string;
  median: number;
  q25: number;
  q75: number;
  meanSeconds: number;
  values: number[];
}


function summarise(results: BenchResult[]): Summary[] {
  const out: Summary[] = [];
  for (const fn of [...FUNCTIONS, ...VALIDATION]) {
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
          values,
        });
      }
    }
  }
  return out;
}

/** median [25th–75th percentile] */
const summaryCell = (s: Summary | undefined): string => (s ? `${fmt(s.median)} [${fmt(s.q25)}–${fmt(s.q75)}]` : "—");

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
    "(bench/tune/functions.ts = bench/tune/optuna_ref.py). Both TPEs share Optuna's defaults: 10 random startup trials,",
    "24 EI candidates, γ(n) = min(⌈0.1·n⌉, 25), flat weights ramped beyond the newest 25, prior weight 1.",
    "Ours differs by default in two ways: it models the parameters jointly (multivariate, with Optuna 4's per-dimension",
    "neighbour bandwidths), and its magic clip keeps each kernel from shrinking below a fixed share of the search space:",
    "bandwidth ≥ range · max(0.01, (1 + kernels)^−2, 0.05^(5/d)) for d numerical parameters, where Optuna uses",
    "range / min(100, 1 + kernels) (how this was chosen: notes below). \"Optuna 3.1 settings\" is",
    "`new TpeSampler({ ...OPTUNA_31_TPE, seed })`, which reproduces Optuna 3.1's default univariate TPE (its one-step",
    "proposal distribution matches Optuna's within sampling error).",
    "",
    `| function | ${COLUMNS.map((c) => c[2]).join(" | ")} |`,
    `|---|${COLUMNS.map(() => "---").join("|")}|`,
  ];
  for (const fn of [...FUNCTIONS, ...VALIDATION]) {
    const cells = COLUMNS.map(([impl, sampler]) => summaryCell(get(fn, sampler, impl)));
    lines.push(`| ${VALIDATION.includes(fn) ? `${fn} (validation)` : fn} | ${cells.join(" | ")} |`);
  }
  lines.push(
    "",
    "The validation rows (Hartmann 6-D, min −3.322; Styblinski–Tang 5-D, min −195.8; hpo6, a notebook-06-like mixed space",
    "with 4 numerical and 2 categorical parameters, min 0) are not part of the bar and were never used to choose a setting.",
  );
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
    const chance = chanceBelow(ours.values, optuna.values).toFixed(2);
    lines.push(`- ${fn}: ours ${fmt(ours.median)} vs Optuna ${fmt(optuna.median)} → ${vsOptuna} (P(ours < Optuna) = ${chance}); ${vsRandom}`);
  }
  lines.push(
    "",
    misses.length === 0
      ? "Verdict: the bar is met on all three functions with seeds 0…9. P(ours < Optuna): the chance that one run of ours ends below one run of Optuna (0.5 = a coin flip)."
      : `Verdict: with seeds 0…9 the bar is NOT met on ${misses.join(", ")}; the chance check below shows how much of that gap ten seeds can produce by luck alone.`,
  );
  if (extraSeeds.length > 0) {
    lines.push(
      "",
      `Chance check with ${extraSeeds.length} other seeds (${extraSeeds[0]}…${extraSeeds[extraSeeds.length - 1]}), default TPEs only:`,
      "",
      "| function | ours TPE (default) | Optuna TPE (default) | P(ours < Optuna) |",
      "|---|---|---|---|",
    );
    for (const fn of FUNCTIONS) {
      const find = (impl: string) => extraSummaries.find((x) => x.fn === fn && x.sampler === "tpe" && x.impl === impl);
      const ours = find("ours");
      const optuna = find("optuna");
      const chance = ours && optuna ? chanceBelow(ours.values, optuna.values).toFixed(2) : "—";
      lines.push(`| ${fn} | ${summaryCell(ours)} | ${summaryCell(optuna)} | ${chance} |`);
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
    "- How our default was chosen. Multivariate kernels with Optuna 4's bandwidths were chosen first (seeds 200…259). With",
    "  Optuna's magic clip they were a coin flip against Optuna on rosenbrock5 (seeds 0…9: median 32.0 vs 23.1, bar missed),",
    "  so the clip was revisited with `npx tsx bench/tune/select.ts --from 600 --seeds 200 --optuna bench/tune/heldout-optuna`:",
    "  each candidate runs on 200 seeds never reported here, and is scored per function by P(ours < Optuna), the chance",
    "  that one of its runs ends below one run of Optuna's default TPE on the same seeds (0.5 = a coin flip; Optuna's runs",
    "  are in bench/tune/heldout-optuna/). The pick maximises the worst of the three. P for branin / rosenbrock5 / mixed3:",
    "  - Optuna's clip, range / min(100, 1 + kernels) (the previous default): 0.72 / 0.50 / 0.73;",
    "  - exponent 2 alone, range · max(0.01, (1 + kernels)^−2) (Watanabe 2023's α): 0.88 / 0.36 / 0.79; in 5-D the kernels",
    "    collapse onto the first good trials and rosenbrock5 stalls (median 61.9);",
    "  - a fixed per-dimension floor of 3 / 5 / 7 % of the range: 0.74 / 0.54 / 0.70, 0.64 / 0.68 / 0.60, 0.58 / 0.67 / 0.60:",
    "    what 5-D needs is too wide to refine in 2-D;",
    "  - a floor on the kernel's volume instead, bandwidth ≥ 0.05^(5/d) · range (5 % in 5-D, 0.06 % in 2-D) with exponent 2:",
    "    0.88 / 0.68 / 0.79 (chosen; volume 0.04⁵ or 0.07⁵: rosenbrock5 0.62 or 0.67; exponent 1.5: 0.89 / 0.66 / 0.87);",
    "  - with Optuna's clip, weighting the good trials by their improvement (Watanabe 2023's EI weights): no change (paired wins/losses",
    "    97/93, 103/94, 98/97); proper kernel densities: branin and mixed3 worse (medians 0.57 vs 0.45, 1.0e-3 vs 3.1e-4).",
    "  Confirmation on seeds 800…999: 0.91 / 0.69 / 0.76 for the chosen clip against 0.71 / 0.51 / 0.73 for Optuna's clip;",
    "  medians 0.403 / 12.1 / 1.8e-5 against Optuna's 0.544 / 27.1 / 5.6e-3. On the three validation functions (seeds",
    "  800…899, `--fns hartmann6,styblinski5,hpo6`, never used to choose) P(ours < Optuna) is 0.77 / 0.66 / 0.67, against",
    "  0.58 / 0.60 / 0.52 with Optuna's clip, and the chosen clip beats Optuna's clip on 78 / 69 / 69 of 100 seeds.",
    "- Earlier held-out searches (seeds 300…599, with Optuna's clip) found no setting better on all three functions among",
    "  48 / 96 / 36 EI candidates, γ(n) = ⌈0.125…0.2·n⌉ or hyperopt's ⌈0.25·√n⌉, prior weight 0.5 or 2, 5 start-up trials,",
    "  endpoints in the bandwidths, flat observation weights and Optuna 3's Scott-like multivariate bandwidths.",
    "",
    "Raw per-seed results: bench/tune/results.json. Re-run: `npm run tune:compare` (needs `apt-get install python3-optuna`; ~2½ min on 2 cores).",
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
  const seeds = Number(option("seeds", "10"));
  const trials = Number(option("trials", "50"));
  const python = option("python", "/usr/bin/python3");
  const seedList = Array.from({ length: seeds }, (_, i) => i);
  const results: BenchResult[] = [];
  let optunaVersion = "?";
  for (const fn of [...FUNCTIONS, ...VALIDATION]) {
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
  const extraSeeds = Array.from({ length: Number(option("extra-seeds", "50")) }, (_, i) => 100 + i);
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
