import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { installKernel, JUPYTER_DATA_DIR, kernelInstalled, KERNEL_LAUNCHER, kernelSpecFile } from "../../lib/report";

test("the installer registers the project's TypeScript kernel and no other", () => {
  installKernel();
  assert.ok(kernelInstalled());
  assert.deepEqual(fs.readdirSync(path.join(JUPYTER_DATA_DIR, "kernels")), ["tslab"]);
  const spec = JSON.parse(fs.readFileSync(kernelSpecFile(), "utf8")) as { argv: string[]; display_name: string; language: string };
  assert.equal(spec.argv[0], KERNEL_LAUNCHER);
  assert.equal(spec.language, "typescript");
});
