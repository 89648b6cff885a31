/**
 * Windows BMP decoding (sharp's prebuilt libvips has no BMP loader): uncompressed 1/4/8-bit palette, 16/24/32-bit,
 * and BI_BITFIELDS 16/32-bit, bottom-up or top-down rows. Enough for the BMPs Keras' image_dataset_from_directory
 * accepts through PIL; RLE-compressed and embedded JPEG/PNG BMPs are refused with the reason.
 */

export interface RawRgb {
  width: number;
  height: number;
  /** height × width × 3 bytes, row-major, top row first. */
  data: Uint8Array;
}

/** True when the bytes start like a BMP file ("BM"). */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** Width and height from a BMP header, or a reason why it is not a readable BMP. */
export function bmpSize(bytes: Uint8Array): { width: number; height: number } {
  const header = parseHeader(bytes);
  return { width: header.width, height: header.height };
}

interface BmpHeader {
  dataOffset: number;
  width: number;
  height: number;
  topDown: boolean;
  bitCount: number;
  compression: number;
  paletteOffset: number;
  paletteEntries: number;
  masks?: [number, number, number];
}

function parseHeader(bytes: Uint8Array): BmpHeader {
  if (!isBmp(bytes)) throw new Error("not a BMP file (no BM signature)");
  if (bytes.length < 26) throw new Error("truncated BMP header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const infoSize = view.getUint32(14, true);
  let width: number;
  let rawHeight: number;
  let bitCount: number;
  let compression = 0;
  let colorsUsed = 0;
  if (infoSize === 12) {
    width = view.getUint16(18, true);
    rawHeight = view.getInt16(20, true);
    bitCount = view.getUint16(24, true);
  } else {
    if (bytes.length < 14 + Math.min(infoSize, 40)) throw new Error("truncated BMP header");
    width = view.getInt32(18, true);
    rawHeight = view.getInt32(22, true);
    bitCount = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    colorsUsed = view.getUint32(46, true);
  }
  const height = Math.abs(rawHeight);
  if (!(width > 0 && height > 0)) throw new Error(`invalid BMP size ${width}×${rawHeight}`);
  let masks: [number, number, number] | undefined;
  if (compression === 3 || compression === 6) {
    const at = infoSize >= 52 ? 54 : 14 + infoSize;
    if (bytes.length < at + 12) throw new Error("truncated BMP bit masks");
    masks = [view.getUint32(at, true), view.getUint32(at + 4, true), view.getUint32(at + 8, true)];
  } else if (compression !== 0) {
    throw new Error(`unsupported BMP compression ${compression} (only uncompressed and bit-field BMPs are read)`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitCount)) throw new Error(`unsupported BMP bit depth ${bitCount}`);
  const paletteEntries = bitCount <= 8 ? colorsUsed || 1 << bitCount : 0;
  return { dataOffset, width, height, topDown: rawHeight < 0, bitCount, compression, paletteOffset: 14 + infoSize, paletteEntries, masks };
}

function maskShift(mask: number): { shift: number; max: number } {
  if (mask === 0) return { shift: 0, max: 1 };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

/** Decode a BMP file's bytes to 8-bit RGB. */
export function decodeBmp(bytes: Uint8Array): RawRgb {
  const h = parseHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stride = Math.floor((h.bitCount * h.width + 31) / 32) * 4;
  if (h.dataOffset + stride * h.height > bytes.length) throw new Error(`truncated BMP pixel data (${bytes.length} bytes, need ${h.dataOffset + stride * h.height})`);
  const paletteStep = h.paletteOffset === 26 ? 3 : 4; // OS/2 BMPs store 3-byte palette entries
  const out = new Uint8Array(h.width * h.height * 3);
  const defaultMasks: [number, number, number] = h.bitCount === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
  const channels = (h.masks ?? defaultMasks).map(maskShift);
  for (let y = 0; y < h.height; y++) {
    const src = h.dataOffset + (h.topDown ? y : h.height - 1 - y) * stride;
    for (let x = 0; x < h.width; x++) {
      const o = (y * h.width + x) * 3;
      if (h.bitCount <= 8) {
        const bit = x * h.bitCount;
        const byte = bytes[src + (bit >> 3)];
        const index = h.bitCount === 8 ? byte : (byte >> (8 - h.bitCount - (bit & 7))) & ((1 << h.bitCount) - 1);
        if (index >= h.paletteEntries) throw new Error(`BMP palette index ${index} out of range (${h.paletteEntries} entries)`);
        const p = h.paletteOffset + index * paletteStep;
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
      } else if (h.bitCount === 24) {
        const p = src + x * 3;
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
      } else {
        const value = h.bitCount === 16 ? view.getUint16(src + x * 2, true) : view.getUint32(src + x * 4, true);
        for (let c = 0; c < 3; c++) {
          const { shift, max } = channels[c];
          out[o + c] = Math.round((((value >>> shift) & max) * 255) / max);
        }
      }
    }
  }
  return { width: h.width, height: h.height, data: out };
}
