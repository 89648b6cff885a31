/**
 * Class weights as scikit-learn's `compute_class_weight`: "balanced" gives
 * `n_samples / (n_classes * count(class))`; a given mapping sets listed classes and leaves the rest at 1.
 */
export type ClassWeightSpec = "balanced" | Readonly<Record<number, number>> | readonly number[];

export function computeClassWeights(labels: ArrayLike<number>, spec: ClassWeightSpec = "balanced", classes?: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  const classList = classes ? [...classes] : [...counts.keys()].sort((a, b) => a - b);
  if (Array.isArray(spec)) {
    if (spec.length !== classList.length) {
      throw new Error(`computeClassWeights: ${spec.length} weights given for ${classList.length} classes (${classList.join(", ")})`);
    }
    return [...spec];
  }
  if (spec === "balanced") {
    const missing = classList.filter((c) => !counts.has(c));
    if (missing.length > 0) {
      throw new Error(`computeClassWeights: classes ${missing.join(", ")} have no samples in the labels (sklearn: "classes should have valid labels that are in y")`);
    }
    const unknown = [...counts.keys()].filter((c) => !classList.includes(c));
    if (unknown.length > 0) throw new Error(`computeClassWeights: labels contain classes ${unknown.join(", ")} not in classes ${classList.join(", ")}`);
    return classList.map((c) => labels.length / (classList.length * (counts.get(c) as number)));
  }
  const given = spec as Readonly<Record<number, number>>;
  for (const key of Object.keys(given)) {
    if (!classList.includes(Number(key))) throw new Error(`computeClassWeights: class ${key} in the weights is not one of the classes ${classList.join(", ")}`);
  }
  return classList.map((c) => given[c] ?? 1);
}
