/**
 * Seeded KMeans on small point sets (POI locations) using ml-kmeans for the Lloyd iterations.
 * ml-kmeans 7 is ESM-only, so it is loaded with require() and typed locally.
 * Initial centres come from our own k-means++ on the project RNG, so the same seed gives the same clusters everywhere;
 * like scikit-learn's n_init, several starts run and the lowest inertia wins.
 */
import { createRng, Rng } from "../util/random";

interface MlKMeansResult {
  clusters: number[];
  centroids: number[][];
  converged: boolean;
  iterations: number;
}
interface MlKMeansModule {
  kmeans(
    data: number[][],
    k: number,
    options: { initialization?: number[][]; maxIterations?: number; tolerance?: number; seed?: number },
  ): MlKMeansResult;
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const mlKMeans: MlKMeansModule = require("ml-kmeans");

export interface KMeansOptions {
  seed?: number;
  /** Independent starts; the lowest inertia wins (scikit-learn's n_init). Default 10. */
  nInit?: number;
  maxIterations?: number;
  tolerance?: number;
}

export interface KMeansFit {
  /** Centroids sorted by their first coordinate, then the second, so cluster ids do not depend on the start. */
  centroids: number[][];
  /** Cluster id of each input point. */
  labels: number[];
  /** Sum of squared distances to the nearest centroid (scikit-learn's inertia_). */
  inertia: number;
  iterations: number;
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/** Index of the nearest centroid (first one on ties). */
export function nearestCentroid(point: readonly number[], centroids: readonly (readonly number[])[]): number {
  let best = 0;
  let bestDist = Infinity;
  centroids.forEach((c, i) => {
    const d = squaredDistance(point, c);
    if (d < bestDist) {
      bestDist = d;
      best = i;
    }
  });
  return best;
}

/** k-means++ seeding (Arthur & Vassilvitskii 2007) drawing from the project RNG. */
export function kmeansPlusPlus(points: readonly (readonly number[])[], k: number, rng: Rng): number[][] {
  const centers: number[][] = [points[rng.int(points.length)].slice()];
  const dist = points.map((p) => squaredDistance(p, centers[0]));
  while (centers.length < k) {
    const total = dist.reduce((a, b) => a + b, 0);
    let pick = 0;
    if (total > 0) {
      let u = rng.next() * total;
      for (pick = 0; pick < points.length - 1; pick++) {
        u -= dist[pick];
        if (u < 0) break;
      }
    } else {
      pick = rng.int(points.length);
    }
    const c = points[pick].slice();
    centers.push(c);
    points.forEach((p, i) => {
      dist[i] = Math.min(dist[i], squaredDistance(p, c));
    });
  }
  return centers;
}

function inertiaOf(points: readonly (readonly number[])[], centroids: readonly (readonly number[])[]): number {
  let s = 0;
  for (const p of points) s += squaredDistance(p, centroids[nearestCentroid(p, centroids)]);
  return s;
}

/** Fit KMeans with `nInit` seeded k-means++ starts; deterministic for a given seed. */
export function fitKMeans(points: readonly (readonly number[])[], k: number, options: KMeansOptions = {}): KMeansFit {
  if (!Number.isInteger(k) || k < 1) throw new Error(`fitKMeans: k must be a positive integer, got ${k}`);
  const distinct = new Set(points.map((p) => p.join(","))).size;
  if (distinct < k) throw new Error(`fitKMeans: ${distinct} distinct points cannot make ${k} clusters`);
  const rng = createRng(options.seed ?? 0);
  const data = points.map((p) => p.slice());
  let best: KMeansFit | null = null;
  for (let run = 0; run < (options.nInit ?? 10); run++) {
    const init = kmeansPlusPlus(data, k, rng.fork(`kmeans-init-${run}`));
    const result = mlKMeans.kmeans(data, k, {
      initialization: init,
      maxIterations: options.maxIterations ?? 300,
      tolerance: options.tolerance ?? 1e-6,
    });
    const centroids = result.centroids.map((c) => c.slice());
    if (centroids.some((c) => c.some((v) => !Number.isFinite(v)))) continue; // an emptied cluster: discard this start
    const inertia = inertiaOf(data, centroids);
    if (!best || inertia < best.inertia) best = { centroids, labels: [], inertia, iterations: result.iterations };
  }
  if (!best) throw new Error(`fitKMeans: every start produced an empty cluster (k=${k})`);
  best.centroids.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  best.labels = data.map((p) => nearestCentroid(p, best!.centroids));
  return best;
}

/** Mean silhouette coefficient (scikit-learn's silhouette_score, euclidean); O(n²), fine for a few thousand points. */
export function silhouetteScore(points: readonly (readonly number[])[], labels: readonly number[]): number {
  const n = points.length;
  const k = Math.max(...labels) + 1;
  if (k < 2) throw new Error("silhouetteScore: needs at least 2 clusters");
  const sizes = new Array<number>(k).fill(0);
  for (const l of labels) sizes[l]++;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const sums = new Array<number>(k).fill(0);
    for (let j = 0; j < n; j++) {
      if (i !== j) sums[labels[j]] += Math.sqrt(squaredDistance(points[i], points[j]));
    }
    const own = labels[i];
    if (sizes[own] <= 1) continue; // scikit-learn: s = 0 for singleton clusters
    const a = sums[own] / (sizes[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c] > 0) b = Math.min(b, sums[c] / sizes[c]);
    total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

/** Inertia and silhouette for several k (the elbow / silhouette comparison of the report). */
export function compareK(
  points: readonly (readonly number[])[],
  ks: readonly number[],
  options: KMeansOptions = {},
): { k: number; inertia: number; silhouette: number; sizes: number[] }[] {
  return ks.map((k) => {
    const fit = fitKMeans(points, k, options);
    const sizes = new Array<number>(k).fill(0);
    for (const l of fit.labels) sizes[l]++;
    return { k, inertia: fit.inertia, silhouette: k > 1 ? silhouetteScore(points, fit.labels) : NaN, sizes };
  });
}
