import * as tf from "@tensorflow/tfjs";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * Reading tfjs LayersModels (model.json + weight shards) from disk or from a URL.
 * Pure @tensorflow/tfjs cannot read files in Node (its fetch does not take file URLs), hence the IOHandler.
 */

/** A model.json path or a folder holding one. */
export function resolveModelJson(location: string): string {
  const candidate = fs.existsSync(location) && fs.statSync(location).isDirectory() ? path.join(location, "model.json") : location;
  if (!fs.existsSync(candidate)) throw new Error(`model: ${candidate} does not exist`);
  return candidate;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** Read model.json and its shards into ModelArtifacts, plus a sha256 over all of them (for cache keys). */
export function readModelArtifacts(location: string): { artifacts: tf.io.ModelArtifacts; sha256: string } {
  const jsonPath = resolveModelJson(location);
  const dir = path.dirname(jsonPath);
  const hash = createHash("sha256");
  const jsonText = fs.readFileSync(jsonPath);
  hash.update(jsonText);
  let json: ModelJson;
  try {
    json = JSON.parse(jsonText.toString("utf8")) as ModelJson;
  } catch (err) {
    throw new Error(`model: ${jsonPath} is not valid JSON (${(err as Error).message})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`model: ${jsonPath} has no modelTopology/weightsManifest (not a tfjs LayersModel)`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      const file = path.join(dir, shard);
      if (!fs.existsSync(file)) throw new Error(`model: weight shard ${file} (listed in ${jsonPath}) is missing`);
      const bytes = fs.readFileSync(file);
      hash.update(bytes);
      buffers.push(bytes);
    }
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return {
    artifacts: {
      modelTopology: json.modelTopology,
      weightSpecs,
      weightData,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? undefined,
    },
    sha256: hash.digest("hex"),
  };
}

/** An IOHandler that loads a LayersModel from a folder or model.json path on disk. */
export function diskModelHandler(location: string): tf.io.IOHandler {
  return { load: async () => readModelArtifacts(location).artifacts };
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * Load a tfjs LayersModel from a folder, a model.json path or an http(s) URL (published tfjs weights;
 * needs network). Returns the model and a weights hash (sha256 of the files; the URL itself for URLs).
 */
export async function loadLayersModelFrom(source: string): Promise<{ model: tf.LayersModel; weightsHash: string }> {
  if (isUrl(source)) {
    const model = await tf.loadLayersModel(source);
    return { model, weightsHash: createHash("sha256").update(source).digest("hex") };
  }
  const { artifacts, sha256 } = readModelArtifacts(source);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  return { model, weightsHash: sha256 };
}
