/**
 * Optimisers written with plain tfjs ops (any backend), with a learning rate that schedules and
 * callbacks can change between steps. Semantics follow PyTorch:
 * - sgd: v = momentum·v + g;  w -= lr·(nesterov ? g + momentum·v : v)
 * - adam: bias-corrected moments, w -= lr·m̂ / (√v̂ + ε)
 * - adamw: Adam plus decoupled weight decay, w -= lr·weightDecay·w applied before the Adam step to
 *   kernel weights only (tensors of rank ≥ 2); biases and normalisation scales are not decayed.
 */
import * as tf from "@tensorflow/tfjs";

export type OptimizerName = "adam" | "adamw" | "sgd";

export interface OptimizerSpec {
  name: OptimizerName;
  lr: number;
  /** AdamW decoupled decay (default 0.01); for adam/sgd, classic L2 added to the gradient when > 0. */
  weightDecay?: number;
  /** SGD momentum (default 0). */
  momentum?: number;
  nesterov?: boolean;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface TrainOptimizer {
  readonly spec: OptimizerSpec;
  /** Current learning rate; set it to change the next steps. */
  lr: number;
  /** Applies one update. `grads[i]` is the gradient of `variables[i]`. */
  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void;
  /** Number of updates applied so far. */
  readonly iterations: number;
  dispose(): void;
}

class SlotStore {
  private slots = new Map<string, tf.Variable[]>();
  get(variable: tf.Variable, count: number): tf.Variable[] {
    let slot = this.slots.get(variable.name);
    if (!slot) {
      slot = Array.from({ length: count }, () => tf.variable(tf.zerosLike(variable), false));
      this.slots.set(variable.name, slot);
    }
    return slot;
  }
  dispose(): void {
    for (const slot of this.slots.values()) slot.forEach((v) => v.dispose());
    this.slots.clear();
  }
}

function isKernel(variable: tf.Variable): boolean {
  return variable.rank >= 2;
}

class SgdOptimizer implements TrainOptimizer {
  lr: number;
  iterations = 0;
  private readonly slots = new SlotStore();
  constructor(readonly spec: OptimizerSpec) {
    this.lr = spec.lr;
  }
  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
    const momentum = this.spec.momentum ?? 0;
    const decay = this.spec.weightDecay ?? 0;
    tf.tidy(() => {
      variables.forEach((variable, i) => {
        let g = grads[i];
        if (decay > 0) g = g.add(variable.mul(decay));
        if (momentum > 0) {
          const [velocity] = this.slots.get(variable, 1);
          // Zero-initialised velocity gives v = g on the first step, as PyTorch's buffer.
          const v = velocity.mul(momentum).add(g);
          velocity.assign(v);
          g = this.spec.nesterov ? g.add(v.mul(momentum)) : v;
        }
        variable.assign(variable.sub(g.mul(this.lr)));
      });
    });
    this.iterations++;
  }
  dispose(): void {
    this.slots.dispose();
  }
}

class AdamOptimizer implements TrainOptimizer {
  lr: number;
  iterations = 0;
  private readonly slots = new SlotStore();
  constructor(readonly spec: OptimizerSpec, private readonly decoupled: boolean) {
    this.lr = spec.lr;
  }
  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[]): void {
    const beta1 = this.spec.beta1 ?? 0.9;
    const beta2 = this.spec.beta2 ?? 0.999;
    const epsilon = this.spec.epsilon ?? 1e-8;
    const decay = this.spec.weightDecay ?? (this.decoupled ? 0.01 : 0);
    const t = this.iterations + 1;
    const correction1 = 1 - Math.pow(beta1, t);
    const correction2 = 1 - Math.pow(beta2, t);
    tf.tidy(() => {
      variables.forEach((variable, i) => {
        let g = grads[i];
        if (!this.decoupled && decay > 0) g = g.add(variable.mul(decay));
        const [m, v] = this.slots.get(variable, 2);
        const mNew = m.mul(beta1).add(g.mul(1 - beta1));
        const vNew = v.mul(beta2).add(g.square().mul(1 - beta2));
        m.assign(mNew);
        v.assign(vNew);
        let w: tf.Tensor = variable;
        if (this.decoupled && decay > 0 && isKernel(variable)) w = w.mul(1 - this.lr * decay);
        const update = mNew.div(correction1).div(vNew.div(correction2).sqrt().add(epsilon)).mul(this.lr);
        variable.assign(w.sub(update));
      });
    });
    this.iterations++;
  }
  dispose(): void {
    this.slots.dispose();
  }
}

/** Builds an optimiser from `{ name: "adam" | "adamw" | "sgd", lr, weightDecay, momentum }`. */
export function createOptimizer(spec: OptimizerSpec): TrainOptimizer {
  if (!(spec.lr > 0)) throw new Error(`optimizer ${spec.name}: lr must be > 0, got ${spec.lr}`);
  switch (spec.name) {
    case "sgd":
      return new SgdOptimizer(spec);
    case "adam":
      return new AdamOptimizer(spec, false);
    case "adamw":
      return new AdamOptimizer(spec, true);
    default:
      throw new Error(`unknown optimizer ${JSON.stringify((spec as { name: unknown }).name)} (use "adam", "adamw" or "sgd")`);
  }
}
