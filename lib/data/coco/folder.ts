import * as fs from "fs";
import * as path from "path";
import sharp from "sharp";
import { CocoFormatError, readCocoInstances, type CocoImage, type CocoInstances, type ParseNotes } from "./instances";

/**
 * A COCO detection folder with train / val / test splits, in either common layout:
 * - COCO's own: `annotations/instances_<split>.json`, images in `<split>/` (what detect:synth writes);
 * - Roboflow's COCO export: `<split>/_annotations.coco.json` with the images next to it ("valid" is read as val).
 */
export const COCO_SPLITS = ["train", "val", "test"] as const;
export type CocoSplitName = (typeof COCO_SPLITS)[number];

export function instancesPath(dir: string, split: CocoSplitName): string {
  return path.join(dir, "annotations", `instances_${split}.json`);
}

export interface CocoSplit {
  name: CocoSplitName;
  instancesFile: string;
  imageDir: string;
  instances: CocoInstances;
  notes: ParseNotes;
}

function locate(dir: string, split: CocoSplitName): { instancesFile: string; imageDir: string } | null {
  const coco = instancesPath(dir, split);
  if (fs.existsSync(coco)) return { instancesFile: coco, imageDir: path.join(dir, split) };
  for (const folder of split === "val" ? ["val", "valid"] : [split]) {
    const roboflow = path.join(dir, folder, "_annotations.coco.json");
    if (fs.existsSync(roboflow)) return { instancesFile: roboflow, imageDir: path.join(dir, folder) };
  }
  return null;
}

/** The splits present in a COCO folder (validated; boxes must lie inside their images). */
export function loadCocoFolder(dir: string): Partial<Record<CocoSplitName, CocoSplit>> & { dir: string } {
  if (!fs.existsSync(dir)) throw new Error(`COCO folder ${dir} does not exist`);
  const out: Partial<Record<CocoSplitName, CocoSplit>> & { dir: string } = { dir };
  for (const name of COCO_SPLITS) {
    const where = locate(dir, name);
    if (!where) continue;
    const { instances, notes } = readCocoInstances(where.instancesFile);
    out[name] = { name, ...where, instances, notes };
  }
  if (!COCO_SPLITS.some((name) => out[name])) {
    throw new Error(`COCO folder ${dir}: no split found (expected annotations/instances_{train,val,test}.json or {train,valid,test}/_annotations.coco.json)`);
  }
  return out;
}

/** A split that must be there (e.g. train for training), with an error naming the files looked for. */
export function requireSplit(folder: ReturnType<typeof loadCocoFolder>, name: CocoSplitName): CocoSplit {
  const split = folder[name];
  if (!split) throw new Error(`COCO folder ${folder.dir}: no "${name}" split (looked for ${instancesPath(folder.dir, name)} and ${path.join(folder.dir, name, "_annotations.coco.json")})`);
  return split;
}

export function imagePath(split: CocoSplit, image: CocoImage): string {
  return path.join(split.imageDir, image.file_name);
}

/**
 * Decode one image of a split to RGB bytes, resized to `size`×`size` (boxes scale by size / width, size / height).
 * Errors name the instances file and the image: missing file, undecodable file, or dimensions that differ from the
 * instances' width × height.
 */
export async function readSplitImage(split: CocoSplit, image: CocoImage, size?: number): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  const file = imagePath(split, image);
  const label = `image ${image.id} (${image.file_name})`;
  if (!fs.existsSync(file)) throw new CocoFormatError(split.instancesFile, label, `image file ${file} is missing`);
  let pipeline: sharp.Sharp;
  try {
    pipeline = sharp(file, { failOn: "error" });
    const meta = await pipeline.metadata();
    if (meta.width !== image.width || meta.height !== image.height) {
      throw new CocoFormatError(split.instancesFile, label, `image file is ${meta.width}×${meta.height} but the instances say ${image.width}×${image.height}`);
    }
    const resized = size ? pipeline.resize(size, size, { fit: "fill" }) : pipeline;
    const { data, info } = await resized.removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
    const rgb = info.channels === 3 ? new Uint8Array(data) : expandToRgb(data, info.channels);
    return { rgb, width: info.width, height: info.height };
  } catch (error) {
    if (error instanceof CocoFormatError) throw error;
    throw new CocoFormatError(split.instancesFile, label, `cannot decode ${file}: ${(error as Error).message}`);
  }
}

function expandToRgb(data: Buffer, channels: number): Uint8Array {
  const pixels = data.length / channels;
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) for (let c = 0; c < 3; c++) out[i * 3 + c] = data[i * channels + Math.min(c, channels - 1)];
  return out;
}

/** Check every image of a split decodes with the declared size (errors as readSplitImage); returns the count. */
export async function checkSplitImages(split: CocoSplit): Promise<number> {
  for (const image of split.instances.images) {
    const file = imagePath(split, image);
    const label = `image ${image.id} (${image.file_name})`;
    if (!fs.existsSync(file)) throw new CocoFormatError(split.instancesFile, label, `image file ${file} is missing`);
    let meta: sharp.Metadata;
    try {
      meta = await sharp(file).metadata();
    } catch (error) {
      throw new CocoFormatError(split.instancesFile, label, `cannot decode ${file}: ${(error as Error).message}`);
    }
    if (meta.width !== image.width || meta.height !== image.height) {
      throw new CocoFormatError(split.instancesFile, label, `image file is ${meta.width}×${meta.height} but the instances say ${image.width}×${image.height}`);
    }
  }
  return split.instances.images.length;
}
