/**
 * Glue between the training loop and the MLflow-format run store (lib/track stays free of tfjs):
 * - `trackingCallback(run)`: per-epoch metrics train_loss, val_loss, train_acc, val_acc,
 *   train_f1_macro, val_f1_macro, lr, epoch_seconds at step = epoch;
 * - `logEvaluation(run, "test", yTrue, yPred, classNames)`: classification_report.txt/.json,
 *   confusion_matrix.json/.svg under `<split>/`, and the split's summary metrics (test_acc,
 *   test_f1_macro, …; trackedFit logs the final validation scores as final_val_*);
 * - `trackedFit(...)`: one call that starts a run, logs params, trains, evaluates and ends the run.
 */
import type * as tf from "@tensorflow/tfjs";
import { startRun, type Run, type StartRunOptions } from "../track";
import type { Callback, EpochRecord } from "./callbacks";
import { classificationReport, confusionMatrix, type ClassificationReport } from "./metrics";
import { evaluate, fit, type FitOptions, type History, type Inputs } from "./fit";

/** Metric names as they appear in MLflow for each EpochRecord field. */
export function epochMetrics(record: EpochRecord): Record<string, number | null> {
  return {
    train_loss: record.trainLoss,
    train_acc: record.trainAcc,
    train_f1_macro: record.trainF1Macro,
    val_loss: record.valLoss,
    val_acc: record.valAcc,
    val_f1_macro: record.valF1Macro,
    lr: record.lr,
    epoch_seconds: record.seconds,
  };
}

export interface TrackingCallbackOptions {
  /** Mark the run FAILED when training throws (default true). */
  failRunOnError?: boolean;
}

/** Logs every epoch's record to `run` (step = epoch number). */
export function trackingCallback(run: Run, options: TrackingCallbackOptions = {}): Callback {
  return {
    name: "tracking",
    onEpochEnd(record) {
      run.logMetrics(epochMetrics(record), record.epoch);
    },
    onTrainEnd(ctx, error) {
      if (ctx.stopReason) run.setTag("train.stop_reason", ctx.stopReason);
      run.setTag("train.epochs_run", String(ctx.history.length));
      if (error && (options.failRunOnError ?? true)) {
        run.setTag("train.error", error instanceof Error ? error.message : String(error));
        run.endRun("FAILED");
      }
    },
  };
}

/** The fit options worth recording as params (the rest are data and callbacks). */
export function fitParams(options: FitOptions): Record<string, string | number | boolean> {
  const params: Record<string, string | number | boolean> = { epochs: options.epochs, batch_size: options.batchSize ?? 32, seed: options.seed ?? 0 };
  const spec = options.optimizer && "name" in options.optimizer ? options.optimizer : options.optimizer ? (options.optimizer as { spec: { name: string; lr: number } }).spec : { name: "adam", lr: 1e-3 };
  params.optimizer = spec.name;
  params.lr = spec.lr;
  for (const key of ["weightDecay", "momentum", "nesterov", "beta1", "beta2"] as const) {
    const value = (spec as unknown as Record<string, unknown>)[key];
    if (value !== undefined) params[snake(key)] = value as number | boolean;
  }
  params.label_smoothing = options.loss?.labelSmoothing ?? 0;
  params.class_weights = options.classWeights === undefined ? "none" : typeof options.classWeights === "string" ? options.classWeights : JSON.stringify(options.classWeights);
  return params;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Writes `<split>/classification_report.txt` (sklearn's text), `.json` (sklearn's output_dict),
 * `confusion_matrix.json` and `confusion_matrix.svg`, and logs `<prefix>_acc`, `<prefix>_f1_macro`,
 * `<prefix>_f1_weighted`, `<prefix>_precision_macro`, `<prefix>_recall_macro` (prefix defaults to the
 * split; use e.g. "final_val" so a final validation score does not mix with the per-epoch val_acc curve).
 */
export function logEvaluation(
  run: Run,
  split: string,
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classNames: readonly string[],
  options: { metricPrefix?: string; step?: number } = {},
): ClassificationReport {
  const prefix = options.metricPrefix ?? split;
  const labels = classNames.map((_, i) => i);
  const report = classificationReport(yTrue, yPred, labels, classNames);
  const matrix = confusionMatrix(yTrue, yPred, labels);
  run.logText(report.text, `${split}/classification_report.txt`);
  run.logDict(report.dict, `${split}/classification_report.json`);
  run.logDict({ labels: [...classNames], rows: "true", columns: "predicted", matrix }, `${split}/confusion_matrix.json`);
  run.logText(confusionMatrixSvg(matrix, classNames, `${split} confusion matrix`), `${split}/confusion_matrix.svg`);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++;
  run.logMetrics(
    {
      [`${prefix}_acc`]: yTrue.length === 0 ? 0 : correct / yTrue.length,
      [`${prefix}_f1_macro`]: report.macroAvg["f1-score"],
      [`${prefix}_f1_weighted`]: report.weightedAvg["f1-score"],
      [`${prefix}_precision_macro`]: report.macroAvg.precision,
      [`${prefix}_recall_macro`]: report.macroAvg.recall,
    },
    options.step ?? 0,
  );
  return report;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string);
}

/** A self-contained SVG heat map of a confusion matrix (counts, shaded by row-normalised recall). */
export function confusionMatrixSvg(matrix: readonly (readonly number[])[], classNames: readonly string[], title = "Confusion matrix"): string {
  const k = classNames.length;
  const cell = 64;
  const left = 30 + 8 * Math.max(...classNames.map((n) => n.length), 4);
  const top = 60;
  const width = left + k * cell + 20;
  const height = top + k * cell + 50;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left + (k * cell) / 2}" y="${top - 22}" text-anchor="middle">predicted</text>`,
    `<text x="12" y="${top + (k * cell) / 2}" text-anchor="middle" transform="rotate(-90 12 ${top + (k * cell) / 2})">true</text>`,
  ];
  classNames.forEach((name, j) => parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 6}" text-anchor="middle">${escapeXml(name)}</text>`));
  matrix.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    parts.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${escapeXml(classNames[i])}</text>`);
    row.forEach((count, j) => {
      const share = total === 0 ? 0 : count / total;
      const shade = Math.round(255 - share * 200);
      const fill = `rgb(${shade},${Math.round(255 - share * 120)},255)`;
      const textColor = share > 0.6 ? "white" : "black";
      parts.push(
        `<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="${fill}" stroke="#888"/>`,
        `<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 5}" text-anchor="middle" fill="${textColor}">${count}</text>`,
      );
    });
  });
  parts.push(`<text x="${left}" y="${height - 16}" font-size="11" fill="#555">rows: true class · columns: predicted · shade: share of the row</text>`, "</svg>");
  return parts.join("\n") + "\n";
}

export interface TrackedFitOptions {
  run?: Run;
  /** Used to start a run when `run` is not given. */
  start?: StartRunOptions;
  /** Extra params (data config, model hyper-parameters) logged with the fit params. */
  params?: Record<string, unknown>;
  classNames: readonly string[];
  /** Evaluated after training, logged under test/. */
  test?: { x: Inputs; y: ArrayLike<number> };
  /** Leave the run open for more logging (default false: ended FINISHED). */
  keepRunOpen?: boolean;
}

export interface TrackedFitResult {
  run: Run;
  history: History;
  val?: ClassificationReport;
  test?: ClassificationReport;
}

/**
 * Starts (or uses) a run, logs params, trains with per-epoch metrics, then logs the validation and
 * test reports and ends the run FINISHED — or FAILED if anything throws.
 */
export async function trackedFit(model: tf.LayersModel, fitOptions: FitOptions, options: TrackedFitOptions): Promise<TrackedFitResult> {
  const run = options.run ?? startRun(options.start ?? {});
  try {
    run.logParams({ ...fitParams(fitOptions), ...(options.params ?? {}) });
    const history = await fit(model, { ...fitOptions, callbacks: [...(fitOptions.callbacks ?? []), trackingCallback(run)] });
    const result: TrackedFitResult = { run, history };
    const smoothing = fitOptions.loss?.labelSmoothing ?? 0;
    if (fitOptions.validation) {
      const val = await evaluate(model, fitOptions.validation.x, fitOptions.validation.y, { labelSmoothing: smoothing, fromLogits: fitOptions.loss?.fromLogits });
      // The final model (after early stopping's restore) scored on validation, apart from the per-epoch curve.
      result.val = logEvaluation(run, "val", fitOptions.validation.y, val.predictions, options.classNames, { metricPrefix: "final_val" });
      run.logMetric("final_val_loss", val.loss);
    }
    if (options.test) {
      const test = await evaluate(model, options.test.x, options.test.y, { labelSmoothing: smoothing, fromLogits: fitOptions.loss?.fromLogits });
      result.test = logEvaluation(run, "test", options.test.y, test.predictions, options.classNames);
      run.logMetric("test_loss", test.loss);
    }
    if (!options.keepRunOpen) run.endRun("FINISHED");
    return result;
  } catch (error) {
    if (run.status === "RUNNING") {
      run.setTag("train.error", error instanceof Error ? error.message : String(error));
      run.endRun("FAILED");
    }
    throw error;
  }
}
