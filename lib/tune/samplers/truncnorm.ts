/**
 * Standard-normal helpers for truncated Gaussians: CDF, log CDF (accurate in the far left tail),
 * inverse CDF, log probability mass of an interval, and log pdf of a truncated normal.
 */
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Complementary error function, Chebyshev fit (Numerical Recipes `erfcc`), relative error < 1.2e-7. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Φ(x), standard normal CDF. */
export function ndtr(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** log Φ(x); asymptotic series below −20 where Φ underflows. */
export function logNdtr(x: number): number {
  if (x > 6) return -ndtr(-x); // log(1 − ε) ≈ −ε
  if (x > -20) return Math.log(ndtr(x));
  // log Φ(x) = −x²/2 − log(−x) − log√(2π) + log(1 − 1/x² + 3/x⁴ − 15/x⁶ …)
  const inv2 = 1 / (x * x);
  const series = 1 - inv2 + 3 * inv2 * inv2 - 15 * inv2 * inv2 * inv2 + 105 * inv2 ** 4;
  return -0.5 * x * x - Math.log(-x) - LOG_SQRT_2PI + Math.log(series);
}

/** Φ⁻¹(p) (Acklam's rational approximation plus one Halley step on erfc). */
export function ndtri(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const e = ndtr(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

function logDiff(logP: number, logQ: number): number {
  // log(p − q) for p ≥ q
  if (logQ === -Infinity) return logP;
  return logP + Math.log1p(-Math.exp(logQ - logP));
}

/** log of the standard-normal probability mass in [a, b]. */
export function logGaussMass(a: number, b: number): number {
  if (b <= a) return -Infinity;
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** log pdf at x of N(mu, sigma²) truncated to [low, high]. */
export function truncnormLogPdf(x: number, mu: number, sigma: number, low: number, high: number): number {
  if (x < low || x > high) return -Infinity;
  const z = (x - mu) / sigma;
  return -0.5 * z * z - LOG_SQRT_2PI - Math.log(sigma) - logGaussMass((low - mu) / sigma, (high - mu) / sigma);
}

/** One draw of N(mu, sigma²) truncated to [low, high], by inverting the CDF with uniform `u`. */
export function truncnormSample(u: number, mu: number, sigma: number, low: number, high: number): number {
  let a = (low - mu) / sigma;
  let b = (high - mu) / sigma;
  // Work in the left tail where Φ is accurate: mirror if the interval lies right of 0.
  const flip = a > 0;
  if (flip) [a, b] = [-b, -a];
  const pa = ndtr(a);
  const pb = ndtr(b);
  let z = ndtri(pa + u * (pb - pa));
  if (!Number.isFinite(z)) z = u < 0.5 ? a : b;
  z = Math.min(Math.max(z, a), b);
  if (flip) z = -z;
  return Math.min(Math.max(mu + sigma * z, low), high);
}
