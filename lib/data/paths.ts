import * as fs from "fs";
import * as path from "path";

/** The project root (the folder holding package.json), whatever the current directory is. */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** Generated files (reports, runs, cache, checkpoints) live under here; git-ignored. */
export function outputsDir(...parts: string[]): string {
  return path.join(PROJECT_ROOT, "outputs", ...parts);
}
