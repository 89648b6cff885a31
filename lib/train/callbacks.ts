/**
 * Callbacks as plain objects, with the hooks Keras users know. `fit` calls them in order; a callback
 * stops training by setting `ctx.stopTraining = true` and changes the learning rate via `ctx.optimizer.lr`.
 */
import type * as tf from "@tensorflow/tfjs";
import * as path from "path";
import { outputsDir } from "../data/paths";
import { saveCheckpoint } from "./checkpoint";
import type { TrainOptimizer } from "./optimizers";

/** One epoch's numbers (epochs count from 1). Validation fields are null without validation data. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  trainF1Macro: number;
  valLoss: number | null;
  valAcc: number | null;
  valF1Macro: number | null;
  /** Learning rate in effect at the end of the epoch. */
  lr: number;
  /** Wall time of the epoch (training + validation), seconds. */
  seconds: number;
}

export type MonitorName = "valLoss" | "valAcc" | "valF1Macro" | "trainLoss" | "trainAcc" | "trainF1Macro";

export interface TrainingContext {
  model: tf.LayersModel;
  optimizer: TrainOptimizer;
  epochs: number;
  stepsPerEpoch: number;
  /** Records of the epochs finished so far. */
  history: EpochRecord[];
  /** Set to true to stop after the current epoch. */
  stopTraining: boolean;
  /** Why training stopped early (shown by the progress logger and kept in the History). */
  stopReason?: string;
}

export interface Callback {
  name?: string;
  onTrainBegin?(ctx: TrainingContext): void | Promise<void>;
  onEpochBegin?(epoch: number, ctx: TrainingContext): void | Promise<void>;
  /** `step` counts batches from 0 across the whole training. */
  onBatchBegin?(step: number, ctx: TrainingContext): void | Promise<void>;
  onEpochEnd?(record: EpochRecord, ctx: TrainingContext): void | Promise<void>;
  /** Called also when training fails or is interrupted (`error` is then set). */
  onTrainEnd?(ctx: TrainingContext, error?: unknown): void | Promise<void>;
}

const SNAKE_TO_CAMEL: Record<string, MonitorName> = {
  val_loss: "valLoss",
  val_acc: "valAcc",
  val_accuracy: "valAcc",
  val_f1_macro: "valF1Macro",
  loss: "trainLoss",
  train_loss: "trainLoss",
  train_acc: "trainAcc",
  train_f1_macro: "trainF1Macro",
};

/** Accepts "valLoss" or Keras/MLflow-style "val_loss", "val_f1_macro". */
export function resolveMonitor(monitor: string): MonitorName {
  const name = (SNAKE_TO_CAMEL[monitor] ?? monitor) as MonitorName;
  const known: MonitorName[] = ["valLoss", "valAcc", "valF1Macro", "trainLoss", "trainAcc", "trainF1Macro"];
  if (!known.includes(name)) throw new Error(`unknown monitor ${JSON.stringify(monitor)}; use one of ${known.join(", ")}`);
  return name;
}

function monitorValue(record: EpochRecord, monitor: MonitorName, who: string): number {
  const value = record[monitor];
  if (value === null || value === undefined || Number.isNaN(value)) {
    throw new Error(`${who}: monitored value ${monitor} is missing at epoch ${record.epoch} (no validation data?)`);
  }
  return value;
}

/** "min" for losses, "max" for accuracy and F1 (Keras' mode="auto"). */
function autoMode(monitor: MonitorName): "min" | "max" {
  return monitor.endsWith("Loss") ? "min" : "max";
}

function improves(current: number, best: number, mode: "min" | "max", minDelta: number): boolean {
  return mode === "min" ? current < best - minDelta : current > best + minDelta;
}

export interface EarlyStoppingOptions {
  monitor?: string;
  mode?: "min" | "max";
  patience?: number;
  minDelta?: number;
  /** Put back the weights of the best epoch when training ends (default true). */
  restoreBestWeights?: boolean;
}

export interface EarlyStoppingCallback extends Callback {
  readonly bestEpoch: number | null;
  readonly bestValue: number | null;
  readonly stoppedEpoch: number | null;
}

/**
 * Keras' EarlyStopping: stop when `monitor` has not improved by more than `minDelta` for `patience`
 * epochs. With `restoreBestWeights`, the best epoch's weights (all of them, including batch-norm
 * statistics) are restored at the end of training, whether it stopped early or ran all epochs.
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStoppingCallback {
  const monitor = resolveMonitor(options.monitor ?? "valLoss");
  const mode = options.mode ?? autoMode(monitor);
  const patience = options.patience ?? 5;
  const minDelta = Math.abs(options.minDelta ?? 0);
  const restore = options.restoreBestWeights ?? true;
  let best = mode === "min" ? Infinity : -Infinity;
  let wait = 0;
  let bestWeights: tf.Tensor[] | null = null;
  const state = { bestEpoch: null as number | null, bestValue: null as number | null, stoppedEpoch: null as number | null };
  const release = (): void => {
    bestWeights?.forEach((t) => t.dispose());
    bestWeights = null;
  };
  return {
    name: "earlyStopping",
    get bestEpoch() {
      return state.bestEpoch;
    },
    get bestValue() {
      return state.bestValue;
    },
    get stoppedEpoch() {
      return state.stoppedEpoch;
    },
    onTrainBegin() {
      best = mode === "min" ? Infinity : -Infinity;
      wait = 0;
      state.bestEpoch = state.bestValue = state.stoppedEpoch = null;
      release();
    },
    onEpochEnd(record, ctx) {
      const current = monitorValue(record, monitor, "earlyStopping");
      if (improves(current, best, mode, minDelta)) {
        best = current;
        state.bestEpoch = record.epoch;
        state.bestValue = current;
        wait = 0;
        if (restore) {
          release();
          bestWeights = ctx.model.getWeights().map((w) => w.clone());
        }
        return;
      }
      wait++;
      if (wait >= patience) {
        state.stoppedEpoch = record.epoch;
        ctx.stopTraining = true;
        ctx.stopReason = `early stopping: ${monitor} did not improve for ${patience} epochs (best ${best.toFixed(4)} at epoch ${state.bestEpoch})`;
      }
    },
    onTrainEnd(ctx) {
      const last = ctx.history[ctx.history.length - 1];
      if (restore && bestWeights && last && last.epoch !== state.bestEpoch) ctx.model.setWeights(bestWeights);
      release();
    },
  };
}

export interface ReduceLROnPlateauOptions {
  monitor?: string;
  mode?: "min" | "max";
  factor?: number;
  patience?: number;
  minDelta?: number;
  cooldown?: number;
  minLr?: number;
}

/** Keras' ReduceLROnPlateau: lr ← max(lr·factor, minLr) after `patience` epochs without improvement. */
export function reduceLROnPlateau(options: ReduceLROnPlateauOptions = {}): Callback & { readonly reductions: Array<{ epoch: number; lr: number }> } {
  const monitor = resolveMonitor(options.monitor ?? "valLoss");
  const mode = options.mode ?? autoMode(monitor);
  const factor = options.factor ?? 0.1;
  if (!(factor > 0 && factor < 1)) throw new Error(`reduceLROnPlateau: factor must be in (0, 1), got ${factor}`);
  const patience = options.patience ?? 10;
  const minDelta = options.minDelta ?? 1e-4;
  const cooldown = options.cooldown ?? 0;
  const minLr = options.minLr ?? 0;
  let best = mode === "min" ? Infinity : -Infinity;
  let wait = 0;
  let cooldownCounter = 0;
  const reductions: Array<{ epoch: number; lr: number }> = [];
  return {
    name: "reduceLROnPlateau",
    reductions,
    onTrainBegin() {
      best = mode === "min" ? Infinity : -Infinity;
      wait = 0;
      cooldownCounter = 0;
      reductions.length = 0;
    },
    onEpochEnd(record, ctx) {
      const current = monitorValue(record, monitor, "reduceLROnPlateau");
      const inCooldown = cooldownCounter > 0;
      if (inCooldown) {
        cooldownCounter--;
        wait = 0;
      }
      if (improves(current, best, mode, minDelta)) {
        best = current;
        wait = 0;
      } else if (!inCooldown) {
        wait++;
        if (wait >= patience) {
          const old = ctx.optimizer.lr;
          if (old > minLr) {
            ctx.optimizer.lr = Math.max(old * factor, minLr);
            reductions.push({ epoch: record.epoch, lr: ctx.optimizer.lr });
            cooldownCounter = cooldown;
            wait = 0;
          }
        }
      }
    },
  };
}

export interface CosineScheduleOptions {
  /** Starting rate; default the optimizer's rate when training begins. */
  initialLr?: number;
  minLr?: number;
  /** Linear warm-up from ~0 to initialLr over this many steps (batches). */
  warmupSteps?: number;
}

/** Cosine decay per batch from initialLr to minLr over the whole training (optionally warmed up). */
export function cosineSchedule(options: CosineScheduleOptions = {}): Callback {
  let base = 0;
  let total = 1;
  const minLr = options.minLr ?? 0;
  const warmup = options.warmupSteps ?? 0;
  return {
    name: "cosineSchedule",
    onTrainBegin(ctx) {
      base = options.initialLr ?? ctx.optimizer.lr;
      total = Math.max(1, ctx.epochs * ctx.stepsPerEpoch);
    },
    onBatchBegin(step, ctx) {
      ctx.optimizer.lr = cosineLr(step, total, base, minLr, warmup);
    },
  };
}

export function cosineLr(step: number, totalSteps: number, initialLr: number, minLr = 0, warmupSteps = 0): number {
  if (step < warmupSteps) return (initialLr * (step + 1)) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return minLr + 0.5 * (initialLr - minLr) * (1 + Math.cos(Math.PI * progress));
}

export interface OneCycleOptions {
  maxLr: number;
  /** Fraction of steps spent increasing the rate (default 0.3). */
  pctStart?: number;
  /** initial = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** final = initial / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
}

/** PyTorch's OneCycleLR (cosine annealing), stepped per batch. */
export function oneCycleSchedule(options: OneCycleOptions): Callback {
  let total = 1;
  return {
    name: "oneCycleSchedule",
    onTrainBegin(ctx) {
      total = Math.max(2, ctx.epochs * ctx.stepsPerEpoch);
    },
    onBatchBegin(step, ctx) {
      ctx.optimizer.lr = oneCycleLr(step, total, options);
    },
  };
}

export function oneCycleLr(step: number, totalSteps: number, options: OneCycleOptions): number {
  const pctStart = options.pctStart ?? 0.3;
  const initial = options.maxLr / (options.divFactor ?? 25);
  const final = initial / (options.finalDivFactor ?? 1e4);
  const anneal = (start: number, end: number, pct: number): number => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  const peakStep = pctStart * totalSteps - 1;
  const lastStep = totalSteps - 1;
  if (step <= peakStep) return anneal(initial, options.maxLr, peakStep <= 0 ? 1 : step / peakStep);
  return anneal(options.maxLr, final, Math.min(1, (step - peakStep) / (lastStep - peakStep)));
}

export interface ModelCheckpointOptions {
  /** Folder for model.json + weights; default outputs/checkpoints/<name>. */
  dir?: string;
  name?: string;
  monitor?: string;
  mode?: "min" | "max";
  /** Save only when the monitored value improves (default true); false saves every epoch. */
  saveBestOnly?: boolean;
}

/**
 * Saves the model (model.json + weights) whenever the monitored value improves, atomically, so an
 * interrupted training still leaves the best checkpoint on disk. Load it with `loadCheckpoint(dir)`.
 */
export function modelCheckpoint(options: ModelCheckpointOptions = {}): Callback & { readonly dir: string; readonly savedEpochs: number[] } {
  const monitor = resolveMonitor(options.monitor ?? "valLoss");
  const mode = options.mode ?? autoMode(monitor);
  const dir = options.dir ?? outputsDir("checkpoints", options.name ?? "model");
  const saveBestOnly = options.saveBestOnly ?? true;
  let best = mode === "min" ? Infinity : -Infinity;
  const savedEpochs: number[] = [];
  return {
    name: "modelCheckpoint",
    dir: path.resolve(dir),
    savedEpochs,
    onTrainBegin() {
      best = mode === "min" ? Infinity : -Infinity;
      savedEpochs.length = 0;
    },
    async onEpochEnd(record, ctx) {
      const current = monitorValue(record, monitor, "modelCheckpoint");
      if (saveBestOnly && !improves(current, best, mode, 0)) return;
      best = improves(current, best, mode, 0) ? current : best;
      await saveCheckpoint(ctx.model, dir, { epoch: record.epoch, monitor, value: current, record });
      savedEpochs.push(record.epoch);
    },
  };
}

function fmt(value: number | null, digits = 4): string {
  return value === null ? "-" : value.toFixed(digits);
}

/** One line per epoch: epoch, losses, accuracy, macro-F1, learning rate and time. */
export function formatEpoch(record: EpochRecord, epochs: number): string {
  const width = String(epochs).length;
  const parts = [
    `epoch ${String(record.epoch).padStart(width)}/${epochs}`,
    `loss ${fmt(record.trainLoss)}`,
    `acc ${fmt(record.trainAcc)}`,
    `f1 ${fmt(record.trainF1Macro)}`,
  ];
  if (record.valLoss !== null) parts.push(`| val_loss ${fmt(record.valLoss)}`, `val_acc ${fmt(record.valAcc)}`, `val_f1 ${fmt(record.valF1Macro)}`);
  parts.push(`| lr ${record.lr.toExponential(2)}`, `${record.seconds.toFixed(2)}s`);
  return parts.join("  ");
}

/** Prints `formatEpoch` lines (notebook cells and the command line); fit adds it when verbose. */
export function progressLogger(print: (line: string) => void = (line) => console.log(line)): Callback {
  return {
    name: "progressLogger",
    onEpochEnd(record, ctx) {
      print(formatEpoch(record, ctx.epochs));
    },
    onTrainEnd(ctx, error) {
      if (error) print(`training interrupted after ${ctx.history.length} epochs: ${error instanceof Error ? error.message : String(error)}`);
      else if (ctx.stopReason) print(ctx.stopReason);
    },
  };
}
