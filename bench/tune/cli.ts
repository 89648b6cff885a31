/** Helpers the bench/tune scripts share: command-line options and how results are compared and printed. */

/** The value after `--name` on the command line, else `fallback`; without a fallback the option is required. */
export function option(name: string, fallback?: string, argv: string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < argv.length) return argv[i + 1];
  if (fallback !== undefined) return fallback;
  throw new Error(`missing --${name}`);
}

/** P(a run of `a` ends below a run of `b`), ties counted half: Mann–Whitney's common-language effect size. */
export function chanceBelow(a: number[], b: number[]): number {
  let wins = 0;
  for (const x of a) for (const y of b) wins += x < y ? 1 : x === y ? 0.5 : 0;
  return wins / (a.length * b.length);
}

/** A best value for the tables: 3 decimals, or 3 significant digits below 0.01 in size. */
export function formatValue(x: number): string {
  return x === 0 ? "0" : Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2);
}
