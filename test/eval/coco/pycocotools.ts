import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../../../lib/data/paths";

/**
 * pycocotools built from ../shared/reference/cocoapi (or $COCOAPI_SOURCE) in a fresh temporary folder, the reference the
 * COCOeval tests compare with. Needs /usr/bin/python3 with numpy, Cython and a C compiler (scripts/install.sh installs
 * them). Outside CI a missing reference makes the equality tests skip with the reason; under CI=true it is a failure.
 */
export interface Reference {
  pythonPath: string;
}

export const PYTHON = process.env.PYCOCOTOOLS_PYTHON ?? "/usr/bin/python3";

export function referenceSource(): string {
  return process.env.COCOAPI_SOURCE ?? path.join(PROJECT_ROOT, "..", "shared", "reference", "cocoapi");
}

/** Build the reference, or return why it cannot be built. */
export function buildPycocotools(): Reference | { error: string } {
  const source = referenceSource();
  if (!fs.existsSync(path.join(source, "PythonAPI", "setup.py"))) return { error: `pycocotools source not found at ${source} (set COCOAPI_SOURCE)` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cocoapi-"));
  fs.cpSync(source, dir, { recursive: true });
  execFileSync("chmod", ["-R", "u+w", dir]); // the source is read-only; the build writes next to it
  try {
    execFileSync(PYTHON, ["setup.py", "build_ext", "--inplace"], { cwd: path.join(dir, "PythonAPI"), stdio: "pipe" });
    const pythonPath = path.join(dir, "PythonAPI");
    execFileSync(PYTHON, ["-c", "from pycocotools.cocoeval import COCOeval"], { env: { ...process.env, PYTHONPATH: pythonPath }, stdio: "pipe" });
    return { pythonPath };
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    return { error: `building pycocotools in ${dir} failed (needs python3-numpy, cython3, python3-dev, gcc): ${e.stderr?.toString().slice(-2000) ?? e.message}` };
  }
}

export interface ReferenceResult {
  stats: number[];
  per_class: Record<string, { ap: number; ap50: number }>;
  iouThrs: number[];
  recThrs: number[];
  precision: number[];
  recall: number[];
  scores: number[];
}

export function runReference(reference: Reference, gtFile: string, dtFile: string): ReferenceResult {
  const out = execFileSync(PYTHON, [path.join(__dirname, "pycocotools_eval.py"), gtFile, dtFile], {
    env: { ...process.env, PYTHONPATH: reference.pythonPath },
    maxBuffer: 512 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return JSON.parse(out.toString());
}
