/**
 * COCO bbox evaluation of any detections file against any instances file, with pycocotools' COCOeval numbers.
 *
 *   npm run coco-eval -- --gt instances.json --dt detections.json [--score-threshold 0.5]
 *
 * Prints pycocotools' 12-line summary and a per-class table on stderr, then one JSON object last on stdout:
 * {"ap", "ap50", "ap75", "ap_small", "ap_medium", "ap_large", "ar1", "ar10", "ar100", "ar_small", "ar_medium",
 *  "ar_large", "per_class": {"<name>": {"ap", "ap50"}}} — -1 where pycocotools writes -1 (no ground truth).
 * Ground-truth boxes are not checked against image bounds here (other tools' files often overhang by a pixel).
 */
import { readCocoDetections, readCocoInstances } from "../lib/data/coco";
import { COCO_STAT_LABELS, COCO_STAT_NAMES, cocoEvalJson, evaluateCoco, precisionRecallAtScore } from "../lib/eval/coco";

function usage(message?: string): never {
  if (message) console.error(message);
  console.error("usage: npm run coco-eval -- --gt <instances.json> --dt <detections.json> [--score-threshold 0.5]");
  process.exit(2);
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) usage(`unexpected argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (!args.gt || !args.dt) usage();
  const scoreThreshold = args["score-threshold"] === undefined ? 0.5 : Number(args["score-threshold"]);
  if (!Number.isFinite(scoreThreshold)) usage(`--score-threshold must be a number, got ${args["score-threshold"]}`);
  const { instances, notes } = readCocoInstances(args.gt, { checkBounds: false });
  if (notes.areaFromBox) console.error(`${args.gt}: ${notes.areaFromBox} annotations have no "area"; their box area w·h is used`);
  const detections = readCocoDetections(args.dt, instances);
  const result = evaluateCoco(instances, detections);
  const json = cocoEvalJson(instances, result);
  COCO_STAT_NAMES.forEach((name) => console.error(` ${COCO_STAT_LABELS[name].padEnd(52)} = ${json[name].toFixed(3)}`));
  console.error(`\ncategory               AP    AP50  precision recall  (score ≥ ${scoreThreshold}, IoU 0.5)`);
  for (const row of precisionRecallAtScore(instances, result, { scoreThreshold })) {
    const f = (v: number) => (Number.isNaN(v) ? "   -  " : v.toFixed(3).padStart(6));
    console.error(`${row.category.padEnd(20)} ${f(row.ap)} ${f(row.ap50)} ${f(row.precision)}    ${f(row.recall)}`);
  }
  console.log(JSON.stringify(json));
}

try {
  main();
} catch (error) {
  console.error(`coco-eval: ${(error as Error).message}`);
  process.exit(1);
}
