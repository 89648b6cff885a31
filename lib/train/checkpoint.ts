/**
 * Saving and loading LayersModels on the local file system (tfjs-node's `file://` handler is not
 * available here). Format: the standard TF.js `model.json` + one binary weights file, loadable with
 * any TF.js loader. Saving is atomic: the weights file gets a new name each time and `model.json`
 * is replaced by rename last, so a crash mid-save leaves the previous checkpoint usable.
 */
import * as tf from "@tensorflow/tfjs";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

function writeAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

/** A `tf.io.IOHandler` reading/writing `<dir>/model.json` and its weights file. */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  const modelJsonPath = path.join(dir, "model.json");
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) throw new Error("fileSystemHandler: binary model topologies are not supported");
      fs.mkdirSync(dir, { recursive: true });
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const previous = fs.existsSync(modelJsonPath) ? referencedWeightFiles(modelJsonPath) : [];
      const weightsName = `weights-${Date.now().toString(36)}-${crypto.randomBytes(3).toString("hex")}.bin`;
      writeAtomic(path.join(dir, weightsName), new Uint8Array(weightData));
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as {},
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      writeAtomic(modelJsonPath, JSON.stringify(modelJson));
      for (const old of previous) if (old !== weightsName) fs.rmSync(path.join(dir, old), { force: true });
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weightData.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!fs.existsSync(modelJsonPath)) throw new Error(`no model.json in ${dir}`);
      const modelJson = JSON.parse(fs.readFileSync(modelJsonPath, "utf8")) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const file of group.paths) {
            const bytes = fs.readFileSync(path.join(dir, file));
            buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

function referencedWeightFiles(modelJsonPath: string): string[] {
  try {
    const json = JSON.parse(fs.readFileSync(modelJsonPath, "utf8")) as tf.io.ModelJSON;
    return json.weightsManifest.flatMap((group) => group.paths);
  } catch {
    return [];
  }
}

export interface CheckpointInfo {
  epoch: number;
  monitor?: string;
  value?: number;
  savedAt?: string;
  [key: string]: unknown;
}

/** Saves the model to `dir` plus `checkpoint.json` describing when and why. */
export async function saveCheckpoint(model: tf.LayersModel, dir: string, info: CheckpointInfo): Promise<void> {
  await model.save(fileSystemHandler(dir));
  writeAtomic(path.join(dir, "checkpoint.json"), JSON.stringify({ ...info, savedAt: new Date().toISOString() }, null, 2));
}

/** Loads a model saved with `saveCheckpoint`/`fileSystemHandler` (or any TF.js layers model.json). */
export async function loadCheckpoint(dir: string): Promise<{ model: tf.LayersModel; info: CheckpointInfo | null }> {
  const model = await tf.loadLayersModel(fileSystemHandler(dir));
  const infoFile = path.join(dir, "checkpoint.json");
  const info = fs.existsSync(infoFile) ? (JSON.parse(fs.readFileSync(infoFile, "utf8")) as CheckpointInfo) : null;
  return { model, info };
}
