import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../data/paths";
import { convertTfliteFile } from "./tflite-convert";

/**
 * Pretrained weights: where they come from (a pinned public file, checked by sha256), how they become the model the
 * engine loads (lib/engine/tflite-convert.ts), and where the engine finds them.
 *
 *   npm run weights:download   # google-coral/test_data @ pinned commit → models/mobilenet_v2_1.0_224/ (sha256 checked)
 *   npm run weights:convert    # models/mobilenet_v2_1.0_224/*.tflite → models/mobilenet_v2_1.0_224/tfjs/
 */

export const MODELS_DIR_SETTING = "POI_MODELS_DIR";
export const MOBILENET_V2_DIR = "mobilenet_v2_1.0_224";
export const MOBILENET_V2_TFLITE = "mobilenet_v2_1.0_224_quant.tflite";

export interface PinnedFile {
  /** Path in the source repository, and the file name it is saved under. */
  name: string;
  bytes: number;
  sha256: string;
}

/**
 * The public origin of MobileNetV2's weights: TF-slim MobileNetV2 1.0/224, ImageNet, 8-bit quantization-aware
 * trained, as published by Google in the Coral test data repository (Apache License 2.0).
 */
export const MOBILENET_V2_SOURCE = {
  repository: "google-coral/test_data",
  commit: "104342d2d3480b3e66203073dac24f4e2dbb4c41",
  licence: "Apache-2.0",
  files: [
    { name: MOBILENET_V2_TFLITE, bytes: 3_610_798, sha256: "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776" },
    { name: "LICENSE", bytes: 11_361, sha256: "f9946796a8a5bd5981565142fa42e3b0cc36aef6f80e86beaf5905b3c0fef1b5" },
    { name: "imagenet_labels.txt", bytes: 21_686, sha256: "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1" },
  ] as PinnedFile[],
} as const;

/**
 * sha256 of the converted model's weight bytes (all shards in order): the conversion is deterministic, so any
 * correct conversion of the pinned file gives exactly these bytes (the course's reference copy has them too).
 */
export const MOBILENET_V2_TFJS_WEIGHTS_SHA256 = "cb235c91071d54dddd0cb30a31341fb07f4f85864bad8d07c7fe9120429cdba4";

export function rawFileUrl(file: string, source = MOBILENET_V2_SOURCE): string {
  return `https://raw.githubusercontent.com/${source.repository}/${source.commit}/${file}`;
}

const COMMANDS = "npm run weights:download && npm run weights:convert";

function hasTfjsModel(dir: string): boolean {
  return fs.existsSync(path.join(dir, MOBILENET_V2_DIR, "tfjs", "model.json"));
}

/** The folders searched for pretrained models, in order: `$POI_MODELS_DIR` (only, when set), else models/, then ../shared/models. */
export function modelsDirCandidates(env: NodeJS.ProcessEnv = process.env, projectRoot = PROJECT_ROOT): string[] {
  const configured = env[MODELS_DIR_SETTING];
  if (configured) return [path.resolve(configured)];
  return [path.join(projectRoot, "models"), path.join(projectRoot, "..", "shared", "models")];
}

/**
 * Folder of pretrained models: `$POI_MODELS_DIR` if set (it must hold the model), else `models/` in the project,
 * else `../shared/models` next to it. The error says how to get the weights.
 */
export function resolveModelsDir(env: NodeJS.ProcessEnv = process.env, projectRoot = PROJECT_ROOT): string {
  const candidates = modelsDirCandidates(env, projectRoot);
  const found = candidates.find(hasTfjsModel);
  if (found) return found;
  const where = env[MODELS_DIR_SETTING] ? `${MODELS_DIR_SETTING}=${env[MODELS_DIR_SETTING]} has no` : "no";
  throw new Error(
    `pretrained models not found: ${where} ${MOBILENET_V2_DIR}/tfjs/model.json in ${candidates.join(" or ")}. ` +
      `Get them with \`${COMMANDS}\` (downloads the public ${MOBILENET_V2_TFLITE} into models/ and converts it), ` +
      `or set ${MODELS_DIR_SETTING} to a folder holding ${MOBILENET_V2_DIR}/tfjs/ (README: "Pretrained weights")`,
  );
}

/** True when the MobileNetV2 files can be found (tests that need them skip otherwise). */
export function hasPretrainedMobileNet(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    resolveModelsDir(env);
    return true;
  } catch {
    return false;
  }
}

/** Where downloads and conversions go: `$POI_MODELS_DIR` if set, else models/ in the project. */
export function writableModelsDir(env: NodeJS.ProcessEnv = process.env, projectRoot = PROJECT_ROOT): string {
  return env[MODELS_DIR_SETTING] ? path.resolve(env[MODELS_DIR_SETTING]!) : path.join(projectRoot, "models");
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Throws unless `bytes` are the pinned file (size, then sha256). */
export function verifyPinned(bytes: Uint8Array, file: PinnedFile, origin: string): void {
  if (bytes.byteLength !== file.bytes) {
    throw new Error(`${file.name} from ${origin}: ${bytes.byteLength} bytes, expected ${file.bytes}; refusing to use it`);
  }
  const actual = sha256(bytes);
  if (actual !== file.sha256) {
    throw new Error(`${file.name} from ${origin}: sha256 ${actual} does not match the pinned ${file.sha256}; refusing to use it`);
  }
}

/** The part of the fetch API the download uses (injectable, so everything after the transfer is testable offline). */
export type Fetch = (url: string) => Promise<{ ok: boolean; status: number; statusText: string; arrayBuffer(): Promise<ArrayBuffer> }>;

export interface DownloadOptions {
  /** Models folder; default `writableModelsDir()`. Files go to <dir>/mobilenet_v2_1.0_224/. */
  modelsDir?: string;
  fetch?: Fetch;
  log?: (line: string) => void;
}

/**
 * Download the pinned MobileNetV2 files and verify each one's size and sha256 before it is written (atomically:
 * nothing is left behind on a mismatch). Files already present with the right checksum are kept.
 */
export async function downloadMobileNetV2(options: DownloadOptions = {}): Promise<string[]> {
  const dir = path.join(options.modelsDir ?? writableModelsDir(), MOBILENET_V2_DIR);
  const fetchImpl = options.fetch ?? (globalThis.fetch as unknown as Fetch);
  const log = options.log ?? (() => undefined);
  fs.mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const file of MOBILENET_V2_SOURCE.files) {
    const target = path.join(dir, file.name);
    if (fs.existsSync(target) && sha256(fs.readFileSync(target)) === file.sha256) {
      log(`${target}: already there, sha256 verified`);
      written.push(target);
      continue;
    }
    const url = rawFileUrl(file.name);
    log(`downloading ${url}`);
    let response: Awaited<ReturnType<Fetch>>;
    try {
      response = await fetchImpl(url);
    } catch (err) {
      throw new Error(`cannot download ${url}: ${(err as Error).message} (no network? the file can also be copied into ${dir} by hand)`);
    }
    if (!response.ok) throw new Error(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    verifyPinned(bytes, file, url);
    const partial = `${target}.${process.pid}.part`;
    fs.writeFileSync(partial, bytes);
    fs.renameSync(partial, target);
    log(`${target}: ${bytes.byteLength} bytes, sha256 verified`);
    written.push(target);
  }
  return written;
}

export interface ConvertOptions {
  /** The .tflite file; default <modelsDir>/mobilenet_v2_1.0_224/mobilenet_v2_1.0_224_quant.tflite. */
  tflite?: string;
  /** Models folder; default `writableModelsDir()`. The model goes to <dir>/mobilenet_v2_1.0_224/tfjs/. */
  modelsDir?: string;
  log?: (line: string) => void;
}

export interface ConvertReport {
  tflite: string;
  outDir: string;
  files: string[];
  layers: number;
  parameters: number;
  weightsSha256: string;
  /** True when the weights are byte-identical to the reference conversion (MOBILENET_V2_TFJS_WEIGHTS_SHA256). */
  matchesReference: boolean;
}

/**
 * Convert the pinned TFLite MobileNetV2 into the tfjs LayersModel the engine loads. The input file must be the
 * pinned one (sha256 checked): the layer names and the reference checksum are those of that file.
 */
export async function convertMobileNetV2(options: ConvertOptions = {}): Promise<ConvertReport> {
  const modelsDir = options.modelsDir ?? writableModelsDir();
  const tflite = options.tflite ?? path.join(modelsDir, MOBILENET_V2_DIR, MOBILENET_V2_TFLITE);
  if (!fs.existsSync(tflite)) {
    throw new Error(`${tflite} does not exist: run \`npm run weights:download\` first (or pass --tflite <file>)`);
  }
  verifyPinned(fs.readFileSync(tflite), MOBILENET_V2_SOURCE.files[0], tflite);
  const outDir = path.join(modelsDir, MOBILENET_V2_DIR, "tfjs");
  const { files, conversion } = await convertTfliteFile(tflite, outDir);
  const shards = files.filter((file) => file.endsWith(".bin"));
  const hash = createHash("sha256");
  for (const shard of shards) hash.update(fs.readFileSync(shard));
  const weightsSha256 = hash.digest("hex");
  const report: ConvertReport = {
    tflite,
    outDir,
    files,
    layers: conversion.model.layers.length,
    parameters: conversion.model.countParams(),
    weightsSha256,
    matchesReference: weightsSha256 === MOBILENET_V2_TFJS_WEIGHTS_SHA256,
  };
  conversion.model.dispose();
  options.log?.(
    `${tflite} → ${outDir}: ${report.layers} layers, ${report.parameters} parameters, weights sha256 ${weightsSha256}` +
      (report.matchesReference ? " (identical to the reference conversion)" : " (DIFFERS from the reference conversion)"),
  );
  return report;
}
