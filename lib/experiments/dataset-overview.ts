import { isNearBlank, sourceSplitIndices, type Dataset, type ItemAuditRow } from "../data";
import { createRng, describe, mean } from "../util";

/** `size` item indices drawn with the seed (sorted), or every index when size is 0 or covers the dataset. */
export function seededSample(count: number, size: number, seed: number): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (size <= 0 || size >= count) return all;
  return createRng(seed).shuffle(all).slice(0, size).sort((a, b) => a - b);
}

/** Up to `perClass` item indices per class, drawn with the seed, class by class in the dataset's class order. */
export function sampleItemsPerClass(dataset: Pick<Dataset, "items" | "classes">, perClass: number, seed: number): number[] {
  const rng = createRng(seed);
  return dataset.classes.flatMap((_, c) => rng.shuffle(dataset.items.flatMap((item, i) => (item.label === c ? [i] : []))).slice(0, perClass));
}

/** Items per class, overall and per source split (train / val / test) when the source has one. */
export function classCountRows(dataset: Dataset): Record<string, string | number>[] {
  const parts = (["train", "val", "test"] as const).map((p) => [p, new Set(sourceSplitIndices(dataset, p))] as const).filter(([, s]) => s.size > 0);
  const counts = dataset.classes.map(() => ({ all: 0, ...Object.fromEntries(parts.map(([p]) => [p, 0])) }) as Record<string, number>);
  dataset.items.forEach((item, i) => {
    counts[item.label].all++;
    for (const [p, members] of parts) if (members.has(i)) counts[item.label][p]++;
  });
  return dataset.classes.map((name, c) => ({
    class: name,
    items: counts[c].all,
    share: `${((100 * counts[c].all) / Math.max(1, dataset.items.length)).toFixed(1)} %`,
    ...Object.fromEntries(parts.map(([p]) => [p, counts[c][p]])),
  }));
}

/** Per class, over the audited images: how many were decoded, unreadable, near blank, and their mean brightness and contrast. */
export function classImageRows(audit: readonly ItemAuditRow[], classes: readonly string[]): Record<string, string | number>[] {
  return classes.map((name) => {
    const rows = audit.filter((a) => a.className === name);
    const q = rows.flatMap((a) => (a.quality ? [a.quality] : []));
    return {
      class: name,
      decoded: q.length,
      unreadable: rows.length - q.length,
      "near blank": q.filter((x) => isNearBlank(x)).length,
      "mean brightness": q.length ? mean(q.map((x) => (x.mean[0] + x.mean[1] + x.mean[2]) / 3)) : NaN,
      "mean contrast (std)": q.length ? mean(q.map((x) => (x.std[0] + x.std[1] + x.std[2]) / 3)) : NaN,
    };
  });
}

/** One row per metadata column: numeric ones described (min, quartiles, max), categorical ones by their most frequent values. */
export function metadataRows(dataset: Dataset): Record<string, string | number>[] {
  return dataset.metadata.map((column) => {
    const values = dataset.items.map((item) => item.metadata[column.name]);
    if (column.kind === "numeric") {
      const d = describe(values as number[]);
      const f = (v: number) => String(Number(v.toPrecision(5)));
      return { column: column.name, kind: column.kind, distinct: new Set(values).size, summary: `min ${f(d.min)}, median ${f(d.median)}, max ${f(d.max)}; mean ${f(d.mean)}` };
    }
    const counts = new Map<string, number>();
    for (const v of values) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
    return { column: column.name, kind: column.kind, distinct: counts.size, summary: top.map(([v, n]) => `${v} (${n})`).join(", ") + (counts.size > 5 ? ", …" : "") };
  });
}

/** Items per class in each part of a split (train / val / test), with each part's share of the class. */
export function splitCountRows(dataset: Pick<Dataset, "items" | "classes">, parts: { train: readonly number[]; val: readonly number[]; test: readonly number[] }): Record<string, string | number>[] {
  const names = (["train", "val", "test"] as const).filter((p) => parts[p].length > 0);
  const counts = dataset.classes.map(() => Object.fromEntries(names.map((p) => [p, 0])) as Record<string, number>);
  for (const p of names) for (const i of parts[p]) counts[dataset.items[i].label][p]++;
  const rows: Record<string, string | number>[] = dataset.classes.map((name, c) => {
    const total = names.reduce((a, p) => a + counts[c][p], 0);
    return { class: name, ...Object.fromEntries(names.flatMap((p) => [[p, counts[c][p]], [`${p} %`, total ? Number(((100 * counts[c][p]) / total).toFixed(1)) : 0]])) };
  });
  rows.push({ class: "all", ...Object.fromEntries(names.flatMap((p) => [[p, parts[p].length], [`${p} %`, Number(((100 * parts[p].length) / names.reduce((a, q) => a + parts[q].length, 0)).toFixed(1))]])) });
  return rows;
}

/** Group ids (items that must stay together: same POI id, same patient) found in more than one part; empty when the split is sound. */
export function groupsAcrossParts(dataset: Pick<Dataset, "items">, parts: { train: readonly number[]; val: readonly number[]; test: readonly number[] }): string[] {
  const partOf = new Map<string, string>();
  const crossing = new Set<string>();
  for (const p of ["train", "val", "test"] as const) {
    for (const i of parts[p]) {
      const group = dataset.items[i].group;
      if (group === undefined) continue;
      const seen = partOf.get(group);
      if (seen !== undefined && seen !== p) crossing.add(group);
      partOf.set(group, p);
    }
  }
  return [...crossing].sort();
}
