import sharp from "sharp";
import type { RgbImage } from "../data";
import { escapeHtml } from "./html";

/** A box to draw: COCO [x, y, w, h] in the image's pixels. Dashed for ground truth, solid for predictions. */
export interface DrawnBox {
  bbox: [number, number, number, number];
  label?: string;
  color: string;
  dashed?: boolean;
}

/** Distinct colours for class indices (plotly's default cycle). */
export const CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/**
 * An image file with boxes and labels drawn on it, scaled to `size` pixels on its longer side (the result feeds
 * showImageGrid / imageGridHtml, which embed it in the page).
 */
export async function imageWithBoxes(file: string, boxes: readonly DrawnBox[], options: { size?: number } = {}): Promise<RgbImage> {
  const meta = await sharp(file).metadata();
  const width = meta.width ?? 1;
  const height = meta.height ?? 1;
  const scale = (options.size ?? 256) / Math.max(width, height);
  const w = Math.round(width * scale);
  const h = Math.round(height * scale);
  const shapes = boxes.map((box) => {
    const [x, y, bw, bh] = box.bbox.map((v) => v * scale);
    const dash = box.dashed ? ` stroke-dasharray="4 3"` : "";
    const label = box.label
      ? `<text x="${x + 2}" y="${Math.max(9, y - 2)}" font-size="9" font-family="sans-serif" fill="${box.color}" stroke="black" stroke-width="0.3">${escapeHtml(box.label)}</text>`
      : "";
    return `<rect x="${x}" y="${y}" width="${bw}" height="${bh}" fill="none" stroke="${box.color}" stroke-width="1.5"${dash}/>${label}`;
  });
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${shapes.join("")}</svg>`);
  const { data, info } = await sharp(file)
    .resize(w, h, { fit: "fill" })
    .removeAlpha()
    .composite([{ input: svg }])
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = new Float32Array(info.width * info.height * 3);
  for (let i = 0; i < info.width * info.height; i++) for (let c = 0; c < 3; c++) pixels[i * 3 + c] = data[i * info.channels + c];
  return { width: info.width, height: info.height, data: pixels };
}
