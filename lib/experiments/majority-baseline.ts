import { startRun, type Run, type StartRunOptions } from "../track";
import { accuracy, epochMetrics, f1Macro, logEvaluation, type ClassificationReport } from "../train";

/** The most frequent class of `labels` (ties → the lowest class index). */
export function majorityClass(labels: ArrayLike<number>, numClasses: number): number {
  if (labels.length === 0) throw new Error("majorityClass: no labels");
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new Error(`majorityClass: label ${y} at index ${i} is not a class index in [0, ${numClasses})`);
    counts[y]++;
  }
  return counts.indexOf(Math.max(...counts));
}

/** Mean cross-entropy of always predicting the class shares `prior` (the majority model's best probabilistic guess). */
export function priorCrossEntropy(labels: ArrayLike<number>, prior: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum -= Math.log(Math.max(prior[labels[i]], 1e-7));
  return labels.length === 0 ? NaN : sum / labels.length;
}

export interface MajorityBaselineOptions {
  start: StartRunOptions;
  yTrain: ArrayLike<number>;
  yVal: ArrayLike<number>;
  yTest: ArrayLike<number>;
  classNames: readonly string[];
  /** Extra params (data config) logged with the model's. */
  params?: Record<string, unknown>;
}

export interface MajorityBaselineResult {
  run: Run;
  majority: number;
  val: ClassificationReport;
  test: ClassificationReport;
}

/**
 * The majority-class baseline as a tracked run shaped like a trained one: params, one "epoch" of train/val
 * loss/acc/F1 (loss = cross-entropy of the training class shares), and the val/test reports and confusion matrices.
 */
export function trackedMajorityBaseline(options: MajorityBaselineOptions): MajorityBaselineResult {
  const k = options.classNames.length;
  const majority = majorityClass(options.yTrain, k);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < options.yTrain.length; i++) counts[options.yTrain[i]]++;
  const prior = counts.map((c) => c / options.yTrain.length);
  const constant = (n: number) => new Int32Array(n).fill(majority);
  const run = startRun(options.start);
  try {
    run.logParams({ model: "majority", majority_class: options.classNames[majority], train_class_counts: counts.join("/"), ...(options.params ?? {}) });
    const started = performance.now();
    run.logMetrics(
      epochMetrics({
        epoch: 1,
        trainLoss: priorCrossEntropy(options.yTrain, prior),
        trainAcc: accuracy(options.yTrain, constant(options.yTrain.length)),
        trainF1Macro: f1Macro(options.yTrain, constant(options.yTrain.length)),
        valLoss: priorCrossEntropy(options.yVal, prior),
        valAcc: accuracy(options.yVal, constant(options.yVal.length)),
        valF1Macro: f1Macro(options.yVal, constant(options.yVal.length)),
        lr: 0,
        seconds: (performance.now() - started) / 1000,
      }),
      1,
    );
    const val = logEvaluation(run, "val", options.yVal, constant(options.yVal.length), options.classNames, { metricPrefix: "final_val" });
    const test = logEvaluation(run, "test", options.yTest, constant(options.yTest.length), options.classNames);
    run.endRun("FINISHED");
    return { run, majority, val, test };
  } catch (error) {
    if (run.status === "RUNNING") run.endRun("FAILED");
    throw error;
  }
}
