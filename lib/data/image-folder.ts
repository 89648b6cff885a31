/**
 * An image-classification folder tree as Keras' `image_dataset_from_directory` reads it:
 *
 *   root/<class>/**.jpg                      classes = the subfolder names, sorted; files found recursively
 *   root/train/<class>/…  root/test/<class>/…   (or val/) a split the source fixes; the class list is their union
 *
 * Accepted extensions (case-insensitive): .jpg .jpeg .png .webp .bmp .gif. Grey and RGBA images become RGB when
 * decoded. `validationSplit` + `seed` follow Keras: the file list is shuffled with the seed and the last
 * ⌊validationSplit · n⌋ files are the validation subset (not stratified), the rest training.
 */
import * as fs from "fs";
import * as path from "path";
import { createRng } from "../util/random";
import { compareStrings, InvalidInputs, selectClasses, type Dataset, type DatasetItem, type InvalidPolicy, type SourceSplit } from "./dataset";
import { DataError } from "./errors";
import { ImageLoadError } from "./images";
import { imageFileSize, verifyImageFile } from "./item-images";

export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze([".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"]);

/** How much of each file is checked while listing: its header (default), a full decode, or nothing (errors come at training time). */
export type ImageCheck = "header" | "decode" | "none";

export interface ImageFolderOptions {
  /** Keep these classes only, in this order (default: every subfolder, sorted). An unknown name is an error. */
  classes?: readonly string[];
  /** Fraction of the (training) files marked "val", Keras-style; needs `seed`. */
  validationSplit?: number;
  seed?: number;
  /** Default IMAGE_EXTENSIONS. */
  extensions?: readonly string[];
  /** Default "header". */
  check?: ImageCheck;
  /** Bad input (unreadable or corrupt image, empty class folder, file that is not an image): "error" (default) or "skip". */
  onInvalid?: InvalidPolicy;
  /** Files checked at once (default 8). */
  concurrency?: number;
}

const SPLIT_FOLDERS: Record<string, SourceSplit> = { train: "train", val: "val", validation: "val", test: "test" };

function subfolders(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isDirectory() || (e.isSymbolicLink() && fs.statSync(path.join(dir, e.name)).isDirectory())) && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort(compareStrings);
}

/** Every file under dir (following folder links), sorted by relative path; hidden files and folders left out. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    const entries = fs.readdirSync(d, { withFileTypes: true }).filter((e) => !e.name.startsWith(".")).sort((a, b) => compareStrings(a.name, b.name));
    for (const e of entries) {
      const full = path.join(d, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && fs.statSync(full).isDirectory());
      if (isDir) walk(full);
      else out.push(full);
    }
  };
  walk(dir);
  return out;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Read an image folder tree into a Dataset (see the file comment for the layout and the options). */
export async function imageFolder(root: string, options: ImageFolderOptions = {}): Promise<Dataset> {
  const dir = path.resolve(root);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new DataError(dir, "not a folder");
  if (options.validationSplit !== undefined) {
    if (!(options.validationSplit > 0 && options.validationSplit < 1)) throw new Error(`validationSplit must be in (0, 1), got ${options.validationSplit}`);
    if (options.seed === undefined) throw new Error("validationSplit needs a seed (as in Keras), so the split is the same every run");
  }
  const extensions = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
  const invalid = new InvalidInputs(options.onInvalid);

  const top = subfolders(dir);
  const splitFolders = top.filter((name) => name.toLowerCase() in SPLIT_FOLDERS);
  const parts: { split?: SourceSplit; dir: string }[] =
    splitFolders.length > 0 && splitFolders.some((n) => SPLIT_FOLDERS[n.toLowerCase()] === "train")
      ? splitFolders.map((name) => ({ split: SPLIT_FOLDERS[name.toLowerCase()], dir: path.join(dir, name) }))
      : [{ dir }];
  // A train/ + val/ tree without test/: val is the held-out part.
  if (parts.length > 1 && !parts.some((p) => p.split === "test")) for (const p of parts) if (p.split === "val") p.split = "test";

  const classNames = [...new Set(parts.flatMap((p) => subfolders(p.dir)))].sort(compareStrings);
  if (classNames.length === 0) throw new DataError(dir, "no class subfolders (expected root/<class>/<image>, or root/train/<class>/…)");

  interface Candidate { file: string; className: string; split?: SourceSplit }
  const candidates: Candidate[] = [];
  const emptyClasses: string[] = [];
  for (const className of classNames) {
    let images = 0;
    for (const part of parts) {
      const classDir = path.join(part.dir, className);
      if (!fs.existsSync(classDir)) continue;
      for (const file of filesUnder(classDir)) {
        if (!extensions.includes(path.extname(file).toLowerCase())) {
          invalid.report(new DataError(file, `not an image file (extension "${path.extname(file)}"; accepted: ${extensions.join(" ")})`));
          continue;
        }
        candidates.push({ file, className, split: part.split });
        images++;
      }
    }
    if (images === 0) {
      invalid.report(new DataError(path.join(dir, className), `class folder "${className}" has no images`));
      emptyClasses.push(className);
    }
  }

  const check = options.check ?? "header";
  const problems = await mapLimit(candidates, options.concurrency ?? 8, async (c, i) => {
    if (check === "none") return undefined;
    try {
      if (check === "decode") await verifyImageFile(c.file, i + 1);
      else await imageFileSize(c.file, i + 1);
      return undefined;
    } catch (err) {
      if (err instanceof ImageLoadError) return err.reason;
      throw err;
    }
  });

  const classes = classNames.filter((c) => !emptyClasses.includes(c));
  const items: DatasetItem[] = [];
  candidates.forEach((c, i) => {
    if (problems[i] !== undefined) {
      invalid.report(new DataError(c.file, problems[i]!));
      return;
    }
    items.push({ row: items.length + 1, id: path.relative(dir, c.file), image: c.file, label: classes.indexOf(c.className), metadata: {}, split: c.split });
  });
  if (items.length === 0) throw new DataError(dir, "no readable images");

  if (options.validationSplit !== undefined) {
    const pool = items.map((item, i) => ({ item, i })).filter(({ item }) => item.split === undefined || item.split === "train");
    const order = createRng(options.seed!).fork("validation-split").shuffle(pool.map(({ i }) => i));
    const nVal = Math.floor(options.validationSplit * order.length);
    order.forEach((i, k) => (items[i].split = k >= order.length - nVal ? "val" : "train"));
  }

  const dataset: Dataset = {
    name: path.basename(dir),
    source: dir,
    classes,
    items,
    metadata: [],
    skipped: invalid.skipped,
    droppedByClassFilter: 0,
  };
  return options.classes ? selectClasses(dataset, options.classes) : dataset;
}
