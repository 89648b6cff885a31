import * as fs from "fs";
import sharp from "sharp";
import { explainDecodeFailure, ImageLoadError, imageRef, type ImageInput, type RgbImage } from "../data";
import { escapeHtml } from "./html";

export interface GridItem {
  /** An image file (with its dataset row, e.g. lib/poi's recordImage, so errors name it), or decoded pixels (RGB floats in [0, 255]). */
  source: ImageInput | RgbImage;
  caption?: string;
  /** Border colour, e.g. to mark a wrong prediction. */
  border?: string;
}

function isPixels(source: ImageInput | RgbImage): source is RgbImage {
  return typeof source !== "string" && "data" in source;
}

async function thumbnailDataUrl(source: ImageInput | RgbImage, size: number): Promise<string> {
  if (isPixels(source)) {
    const raw = sharp(Buffer.from(Uint8ClampedArray.from(source.data)), { raw: { width: source.width, height: source.height, channels: 3 } });
    return `data:image/png;base64,${(await raw.resize(size, size, { fit: "inside" }).png().toBuffer()).toString("base64")}`;
  }
  const { file, ...origin } = imageRef(source);
  if (!fs.existsSync(file)) throw new ImageLoadError(file, "file does not exist", origin);
  try {
    const png = await sharp(file, { failOn: "error" }).resize(size, size, { fit: "inside" }).png().toBuffer();
    return `data:image/png;base64,${png.toString("base64")}`;
  } catch (err) {
    throw new ImageLoadError(file, explainDecodeFailure((err as Error).message), origin);
  }
}

/** A grid of thumbnails with captions, embedded as data URLs so the HTML stands alone. */
export async function imageGridHtml(items: readonly GridItem[], options: { size?: number; columns?: number; title?: string } = {}): Promise<string> {
  const size = options.size ?? 128;
  const columns = options.columns ?? 6;
  const cells = await Promise.all(
    items.map(async (item) => {
      const url = await thumbnailDataUrl(item.source, size);
      const border = item.border ? `border:3px solid ${item.border};` : "border:1px solid #ddd;";
      return (
        `<figure style="margin:0;text-align:center;font-size:11px;overflow-wrap:anywhere">` +
        `<img src="${url}" style="width:${size}px;height:${size}px;object-fit:contain;${border}"/>` +
        `<figcaption>${escapeHtml(item.caption ?? "")}</figcaption></figure>`
      );
    }),
  );
  const title = options.title ? `<div style="font-weight:bold;margin:4px 0">${escapeHtml(options.title)}</div>` : "";
  return `${title}<div class="poi-image-grid" style="display:grid;grid-template-columns:repeat(${columns}, ${size + 10}px);gap:8px">${cells.join("")}</div>`;
}
