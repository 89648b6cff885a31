import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * Native training kernels (train-kernels.c), compiled on first use as a Node-API addon with the machine's C
 * compiler, as torch.utils.cpp_extension.load does: `cc -O3 -march=native -fopenmp -shared`, Node's own headers
 * (`<node prefix>/include/node`, shipped by Node's installers and Debian's nodejs). The binary is cached under
 * node_modules/.cache/poi-native/, keyed by the source, the compiler, Node's ABI and the CPU (it uses the CPU's
 * vector units, so a copy on another machine is rebuilt, not loaded).
 *
 * Optional by design: with no compiler (or POI_NATIVE=0) `trainKernels()` is null, says why in
 * `nativeKernelStatus()`, and fit trains convolutional networks with TensorFlow.js ops as before.
 *
 * Settings: POI_NATIVE=0 turns them off; CC names the compiler (default: cc, gcc or clang, the first found);
 * OMP_NUM_THREADS their threads.
 */

/** Typed-array kernels; shapes are given as numbers or an Int32Array of dimensions (see train-kernels.c). */
export interface TrainKernels {
  /** dims: n, h, w, cin, oh, ow, cout, kh, kw, sh, sw, padTop, padLeft, dilationH, dilationW, relu (0/1). */
  conv2dForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, dims: Int32Array): void;
  /** dw, db overwritten; dx accumulated; dy masked by y > 0 when relu. */
  conv2dBackward(x: Float32Array, w: Float32Array, y: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, dx: Float32Array | null, dims: Int32Array): void;
  /** dims: n, h, w, c, oh, ow, poolH, poolW, strideH, strideW, padTop, padLeft. */
  maxPoolForward(x: Float32Array, y: Float32Array, argmax: Int32Array, dims: Int32Array): void;
  maxPoolBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, dims: Int32Array): void;
  globalAvgPoolForward(x: Float32Array, y: Float32Array, n: number, pixels: number, channels: number): void;
  globalAvgPoolBackward(dy: Float32Array, dx: Float32Array, n: number, pixels: number, channels: number): void;
  batchNormForward(x: Float32Array, y: Float32Array, xhat: Float32Array, invStd: Float64Array, gamma: Float32Array | null, beta: Float32Array | null, movingMean: Float32Array, movingVariance: Float32Array, rows: number, channels: number, epsilon: number, momentum: number): void;
  batchNormBackward(dy: Float32Array, xhat: Float32Array, invStd: Float64Array, gamma: Float32Array | null, dgamma: Float32Array | null, dbeta: Float32Array | null, dx: Float32Array | null, rows: number, channels: number): void;
  reluForward(x: Float32Array, y: Float32Array, size: number): void;
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, size: number): void;
  fillZero(x: Float32Array, size: number): void;
  /** OpenMP threads a kernel uses (1 when built without OpenMP). */
  threads(): number;
}

export interface NativeKernelStatus {
  kernels: TrainKernels | null;
  /** The addon's path, or why there is none. */
  detail: string;
}

const SOURCE = path.join(__dirname, "train-kernels.c");
let status: NativeKernelStatus | undefined;

function cacheDir(): string {
  const inProject = path.join(__dirname, "..", "..", "..", "node_modules", ".cache", "poi-native");
  try {
    fs.mkdirSync(inProject, { recursive: true });
    fs.accessSync(inProject, fs.constants.W_OK);
    return inProject;
  } catch {
    const fallback = path.join(os.tmpdir(), "poi-native");
    fs.mkdirSync(fallback, { recursive: true });
    return fallback;
  }
}

/** What the binary depends on besides its source: the CPU's model and feature flags. */
function cpuIdentity(): string {
  try {
    const info = fs.readFileSync("/proc/cpuinfo", "utf8");
    const line = (name: string) => info.split("\n").find((l) => l.startsWith(name)) ?? "";
    return `${line("model name")}|${line("flags")}`;
  } catch {
    return `${os.cpus()[0]?.model ?? ""}|${os.arch()}`;
  }
}

function firstLine(error: unknown): string {
  const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim();
  return (stderr || (error as Error).message || String(error)).split("\n")[0];
}

function build(): NativeKernelStatus {
  if (process.env.POI_NATIVE === "0") return { kernels: null, detail: "turned off (POI_NATIVE=0)" };
  const include = path.join(path.dirname(process.execPath), "..", "include", "node");
  if (!fs.existsSync(path.join(include, "node_api.h"))) return { kernels: null, detail: `no Node-API headers at ${include}` };
  let cc = "";
  let version = "";
  for (const candidate of process.env.CC ? [process.env.CC] : ["cc", "gcc", "clang"]) {
    try {
      version = execFileSync(candidate, ["--version"], { stdio: ["ignore", "pipe", "pipe"] }).toString();
      cc = candidate;
      break;
    } catch {
      // try the next one
    }
  }
  if (!cc) return { kernels: null, detail: `no C compiler (${process.env.CC ? `CC=${process.env.CC}` : "cc, gcc, clang"} not found)` };
  const source = fs.readFileSync(SOURCE);
  const base = ["-O3", "-march=native", "-shared", "-fPIC", "-std=gnu11", "-I", include];
  const attempts = [[...base, "-fopenmp"], base];
  const key = crypto.createHash("sha256").update(source).update(version).update(cpuIdentity()).update(`${process.platform}|${process.arch}|${process.versions.modules}|${JSON.stringify(attempts)}`).digest("hex").slice(0, 16);
  const dir = cacheDir();
  const file = path.join(dir, `train-kernels-${key}.node`);
  if (!fs.existsSync(file)) {
    const temporary = `${file}.${process.pid}.tmp`;
    let lastError = "";
    for (const flags of attempts) {
      try {
        execFileSync(cc, [...flags, "-o", temporary, SOURCE], { stdio: ["ignore", "pipe", "pipe"] });
        lastError = "";
        break;
      } catch (error) {
        lastError = firstLine(error);
      }
    }
    if (lastError) return { kernels: null, detail: `${cc} could not build ${path.basename(SOURCE)}: ${lastError}` };
    fs.renameSync(temporary, file); // atomic: concurrent processes each build and the last rename wins
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kernels = require(file) as TrainKernels;
    return { kernels, detail: file };
  } catch (error) {
    return { kernels: null, detail: `could not load ${file}: ${firstLine(error)}` };
  }
}

/** The kernels and where they came from (built on the first call of the process). */
export function nativeKernelStatus(): NativeKernelStatus {
  if (!status) status = build();
  return status;
}

/** The native training kernels, or null where they cannot be built (see nativeKernelStatus). */
export function trainKernels(): TrainKernels | null {
  return nativeKernelStatus().kernels;
}
