import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../data";

export const DATA_DIR_SETTING = "POI_DATA_DIR";

/**
 * Where the POI dataset lives: `$POI_DATA_DIR` if set (must exist), else `data/poi` in the project,
 * else `../shared/data/poi` next to the project. The folder holds poi_dataset.csv and data_main/.
 */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[DATA_DIR_SETTING];
  if (configured) {
    const dir = path.resolve(configured);
    if (!fs.existsSync(path.join(dir, "poi_dataset.csv"))) {
      throw new Error(`${DATA_DIR_SETTING}=${configured}: no poi_dataset.csv in ${dir}`);
    }
    return dir;
  }
  const candidates = [path.join(PROJECT_ROOT, "data", "poi"), path.join(PROJECT_ROOT, "..", "shared", "data", "poi")];
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, "poi_dataset.csv"))) return dir;
  }
  throw new Error(
    `POI dataset not found: set ${DATA_DIR_SETTING} or put poi_dataset.csv and data_main/ in one of: ${candidates.join(", ")}`,
  );
}

/** True when the real dataset can be found (tests that need it skip otherwise). */
export function hasDataset(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    resolveDataDir(env);
    return true;
  } catch {
    return false;
  }
}
