import type { CocoInstances } from "./instances";

/** COCOeval's area ranges: small < 32², medium 32²–96², large > 96² (by the annotation's `area`). */
export type AreaRange = "small" | "medium" | "large";

export function areaRange(area: number): AreaRange {
  return area < 32 ** 2 ? "small" : area <= 96 ** 2 ? "medium" : "large";
}

export interface CocoSplitDescription {
  images: number;
  annotations: number;
  crowd: number;
  /** Images without any annotation (NORMAL in the synthetic set). */
  imagesWithoutBoxes: number;
  /** Boxes per image, one entry per image. */
  boxesPerImage: number[];
  /** One row per category: boxes, images containing it, boxes per COCO area range. */
  perClass: Array<{ category: string; boxes: number; images: number; small: number; medium: number; large: number }>;
  /** One row per box: class, width, height, area, range (for histograms). */
  boxes: Array<{ category: string; width: number; height: number; area: number; range: AreaRange }>;
}

export function describeCocoSplit(instances: CocoInstances): CocoSplitDescription {
  const names = new Map(instances.categories.map((c) => [c.id, c.name]));
  const perImage = new Map<number, number>(instances.images.map((image) => [image.id, 0]));
  const rows = new Map(instances.categories.map((c) => [c.id, { category: c.name, boxes: 0, images: new Set<number>(), small: 0, medium: 0, large: 0 }]));
  const boxes: CocoSplitDescription["boxes"] = [];
  for (const a of instances.annotations) {
    perImage.set(a.image_id, (perImage.get(a.image_id) ?? 0) + 1);
    const row = rows.get(a.category_id)!;
    const range = areaRange(a.area);
    row.boxes++;
    row.images.add(a.image_id);
    row[range]++;
    boxes.push({ category: names.get(a.category_id) ?? String(a.category_id), width: a.bbox[2], height: a.bbox[3], area: a.area, range });
  }
  const boxesPerImage = [...perImage.values()];
  return {
    images: instances.images.length,
    annotations: instances.annotations.length,
    crowd: instances.annotations.filter((a) => a.iscrowd === 1).length,
    imagesWithoutBoxes: boxesPerImage.filter((n) => n === 0).length,
    boxesPerImage,
    perClass: [...rows.values()].map((r) => ({ ...r, images: r.images.size })),
    boxes,
  };
}
