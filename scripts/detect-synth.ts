/**
 * Write the SYNTHETIC industrial-inspection detection set (DAGM-2007-like surfaces, six classes) as a COCO folder.
 *
 *   npm run detect:synth -- --out data/defects --seed 0 [--images 600] [--size 256] [--format png|jpeg]
 *
 * Progress on stderr; one JSON object last on stdout: images / boxes per split, boxes per class, NORMAL images.
 */
import { generateSyntheticDefects } from "../lib/data/coco";
import { createProgress } from "../lib/util";

function usage(message?: string): never {
  if (message) console.error(message);
  console.error("usage: npm run detect:synth -- --out <folder> --seed S [--images N] [--size 256] [--format png|jpeg]");
  process.exit(2);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) usage(`unexpected argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  const int = (key: string, fallback?: number): number => {
    if (args[key] === undefined) {
      if (fallback === undefined) usage(`--${key} is required`);
      return fallback;
    }
    const n = Number(args[key]);
    if (!Number.isInteger(n)) usage(`--${key} must be an integer, got ${args[key]}`);
    return n;
  };
  if (!args.out) usage("--out is required");
  const format = args.format ?? "png";
  if (format !== "png" && format !== "jpeg") usage(`--format must be png or jpeg, got ${format}`);
  const images = int("images", 600);
  const progress = createProgress("detect:synth", images, { unit: "images" });
  const summary = await generateSyntheticDefects({
    out: args.out,
    seed: int("seed"),
    images,
    size: int("size", 256),
    format,
    onProgress: () => progress.tick(),
  });
  progress.done();
  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  console.error(`detect:synth: ${(error as Error).message}`);
  process.exit(1);
});
