// Strip outputs from notebooks before committing (small diffs, no stale numbers): npm run notebooks:clear
import * as path from "path";
import { PROJECT_ROOT } from "../lib/data";
import { clearOutputs, hasOutputs, listNotebooks, readNotebook, writeNotebook } from "../lib/report";

const files = process.argv.length > 2 ? process.argv.slice(2) : listNotebooks(path.join(PROJECT_ROOT, "notebooks"));
for (const file of files) {
  const notebook = readNotebook(file);
  if (!hasOutputs(notebook)) continue;
  writeNotebook(file, clearOutputs(notebook));
  console.log(`cleared ${path.relative(PROJECT_ROOT, file)}`);
}
