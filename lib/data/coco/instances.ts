import * as fs from "fs";

/**
 * COCO "instances" files (object detection): the format of pycocotools, torchvision's CocoDetection, Detectron2,
 * MMDetection and Ultralytics' COCO export. Field names follow the files exactly (snake_case) so a parsed object can be
 * written back with JSON.stringify and read by those tools.
 */

/** [x, y, width, height] in pixels, (x, y) the top-left corner — COCO's box convention. */
export type CocoBox = [number, number, number, number];

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: CocoBox;
  /** Object area used for COCOeval's small/medium/large ranges (a mask's area in COCO; the box area when absent). */
  area: number;
  /** 1 = a crowd region: detections inside it are neither true nor false positives. */
  iscrowd: 0 | 1;
}

export interface CocoInstances {
  info?: Record<string, unknown>;
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

/** One line of a COCO results ("detections") file, as written by every COCO-aware detector. */
export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: CocoBox;
  score: number;
}

/** A problem in a COCO file, naming the file and the offending image / annotation / detection. */
export class CocoFormatError extends Error {
  constructor(
    readonly file: string,
    readonly where: string,
    readonly reason: string,
  ) {
    super(`${file}: ${where ? `${where}: ` : ""}${reason}`);
    this.name = "CocoFormatError";
  }
}

export interface ParseInstancesOptions {
  /** Reject boxes that leave the image (x < 0, y < 0, x + w > width, y + h > height). Default true. */
  checkBounds?: boolean;
}

/** What parsing had to fill in (never silently): annotations without `area` get w·h, without `iscrowd` get 0. */
export interface ParseNotes {
  areaFromBox: number;
  iscrowdDefaulted: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function finite(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function integerId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

function describeImage(image: CocoImage | undefined, imageId: number): string {
  return image ? `image ${imageId} (${image.file_name})` : `image ${imageId}`;
}

function parseBox(value: unknown, file: string, where: string): CocoBox {
  if (!Array.isArray(value) || value.length !== 4 || !value.every(finite)) {
    throw new CocoFormatError(file, where, `bbox must be 4 finite numbers [x, y, width, height], got ${JSON.stringify(value)}`);
  }
  return [value[0], value[1], value[2], value[3]];
}

/**
 * Validate a parsed instances object. Errors name the file and the image / annotation: unknown image or category ids,
 * duplicate ids, bbox not 4 numbers, non-positive width/height, boxes outside their image (unless checkBounds is false).
 */
export function parseCocoInstances(json: unknown, file = "<instances>", options: ParseInstancesOptions = {}): { instances: CocoInstances; notes: ParseNotes } {
  const checkBounds = options.checkBounds ?? true;
  if (!isObject(json)) throw new CocoFormatError(file, "", "not a COCO instances object (expected { images, annotations, categories })");
  for (const key of ["images", "annotations", "categories"]) {
    if (!Array.isArray(json[key])) throw new CocoFormatError(file, "", `"${key}" must be an array`);
  }
  const categories: CocoCategory[] = [];
  const categoryIds = new Set<number>();
  (json.categories as unknown[]).forEach((raw, index) => {
    const where = `categories[${index}]`;
    if (!isObject(raw) || !integerId(raw.id)) throw new CocoFormatError(file, where, `"id" must be an integer, got ${JSON.stringify(isObject(raw) ? raw.id : raw)}`);
    if (typeof raw.name !== "string") throw new CocoFormatError(file, `category ${raw.id}`, `"name" must be a string`);
    if (categoryIds.has(raw.id)) throw new CocoFormatError(file, `category ${raw.id}`, "duplicate category id");
    categoryIds.add(raw.id);
    const category: CocoCategory = { id: raw.id, name: raw.name };
    if (typeof raw.supercategory === "string") category.supercategory = raw.supercategory;
    categories.push(category);
  });

  const images: CocoImage[] = [];
  const imageById = new Map<number, CocoImage>();
  (json.images as unknown[]).forEach((raw, index) => {
    const where = `images[${index}]`;
    if (!isObject(raw) || !integerId(raw.id)) throw new CocoFormatError(file, where, `"id" must be an integer, got ${JSON.stringify(isObject(raw) ? raw.id : raw)}`);
    const name = typeof raw.file_name === "string" ? raw.file_name : "";
    const label = `image ${raw.id}${name ? ` (${name})` : ""}`;
    if (!name) throw new CocoFormatError(file, label, `"file_name" must be a non-empty string`);
    if (!finite(raw.width) || !finite(raw.height) || raw.width <= 0 || raw.height <= 0) {
      throw new CocoFormatError(file, label, `"width" and "height" must be positive numbers, got ${JSON.stringify(raw.width)} × ${JSON.stringify(raw.height)}`);
    }
    if (imageById.has(raw.id)) throw new CocoFormatError(file, label, "duplicate image id");
    const image: CocoImage = { id: raw.id, file_name: name, width: raw.width, height: raw.height };
    imageById.set(image.id, image);
    images.push(image);
  });

  const notes: ParseNotes = { areaFromBox: 0, iscrowdDefaulted: 0 };
  const annotations: CocoAnnotation[] = [];
  const annotationIds = new Set<number>();
  (json.annotations as unknown[]).forEach((raw, index) => {
    if (!isObject(raw) || !integerId(raw.id)) {
      throw new CocoFormatError(file, `annotations[${index}]`, `"id" must be an integer, got ${JSON.stringify(isObject(raw) ? raw.id : raw)}`);
    }
    const imageId = raw.image_id;
    const image = integerId(imageId) ? imageById.get(imageId) : undefined;
    const where = `annotation ${raw.id}${integerId(imageId) ? ` of ${describeImage(image, imageId)}` : ""}`;
    if (annotationIds.has(raw.id)) throw new CocoFormatError(file, where, "duplicate annotation id");
    annotationIds.add(raw.id);
    if (!image) throw new CocoFormatError(file, where, `unknown image_id ${JSON.stringify(imageId)} (not in "images")`);
    if (!integerId(raw.category_id) || !categoryIds.has(raw.category_id)) {
      throw new CocoFormatError(file, where, `unknown category_id ${JSON.stringify(raw.category_id)} (known: ${[...categoryIds].join(", ")})`);
    }
    const bbox = parseBox(raw.bbox, file, where);
    const [x, y, w, h] = bbox;
    if (w <= 0 || h <= 0) throw new CocoFormatError(file, where, `bbox width and height must be positive, got ${w} × ${h}`);
    if (checkBounds && (x < 0 || y < 0 || x + w > image.width || y + h > image.height)) {
      throw new CocoFormatError(file, where, `bbox [${bbox.join(", ")}] lies outside the ${image.width}×${image.height} image`);
    }
    let area: number;
    if (raw.area === undefined) {
      area = w * h;
      notes.areaFromBox++;
    } else if (finite(raw.area) && raw.area >= 0) area = raw.area;
    else throw new CocoFormatError(file, where, `"area" must be a non-negative number, got ${JSON.stringify(raw.area)}`);
    let iscrowd: 0 | 1;
    if (raw.iscrowd === undefined) {
      iscrowd = 0;
      notes.iscrowdDefaulted++;
    } else if (raw.iscrowd === 0 || raw.iscrowd === 1 || typeof raw.iscrowd === "boolean") iscrowd = raw.iscrowd ? 1 : 0;
    else throw new CocoFormatError(file, where, `"iscrowd" must be 0 or 1, got ${JSON.stringify(raw.iscrowd)}`);
    annotations.push({ id: raw.id, image_id: image.id, category_id: raw.category_id, bbox, area, iscrowd });
  });
  const instances: CocoInstances = { images, annotations, categories };
  if (isObject(json.info)) instances.info = json.info;
  return { instances, notes };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new CocoFormatError(file, "", `cannot read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CocoFormatError(file, "", `not valid JSON: ${(error as Error).message}`);
  }
}

/** Read and validate an instances JSON file (see parseCocoInstances). */
export function readCocoInstances(file: string, options: ParseInstancesOptions = {}): { instances: CocoInstances; notes: ParseNotes } {
  return parseCocoInstances(readJson(file), file, options);
}

/**
 * Validate a COCO results list against its ground truth, as pycocotools' loadRes does (every image_id must be one of
 * the ground truth's images) but with errors that name the entry. Category ids absent from the ground truth are kept:
 * COCOeval ignores them, as pycocotools does.
 */
export function parseCocoDetections(json: unknown, gt: CocoInstances, file = "<detections>"): CocoDetection[] {
  if (!Array.isArray(json)) throw new CocoFormatError(file, "", "a COCO results file is a JSON array of { image_id, category_id, bbox, score }");
  const imageIds = new Set(gt.images.map((image) => image.id));
  return json.map((raw, index) => {
    const where = `detection ${index}`;
    if (!isObject(raw)) throw new CocoFormatError(file, where, "not an object");
    if (!integerId(raw.image_id) || !imageIds.has(raw.image_id)) {
      throw new CocoFormatError(file, where, `image_id ${JSON.stringify(raw.image_id)} is not an image of the ground truth`);
    }
    if (!integerId(raw.category_id)) throw new CocoFormatError(file, where, `category_id must be an integer, got ${JSON.stringify(raw.category_id)}`);
    if (!finite(raw.score)) throw new CocoFormatError(file, where, `score must be a finite number, got ${JSON.stringify(raw.score)}`);
    return { image_id: raw.image_id, category_id: raw.category_id, bbox: parseBox(raw.bbox, file, `${where} (image ${raw.image_id})`), score: raw.score };
  });
}

/** Read a COCO results JSON file (see parseCocoDetections). */
export function readCocoDetections(file: string, gt: CocoInstances): CocoDetection[] {
  return parseCocoDetections(readJson(file), gt, file);
}
