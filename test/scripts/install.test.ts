import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../../lib/data";

// A stub apt-get on PATH that fails with apt's lock message `locked` times, then succeeds (or fails otherwise).
function stubApt(locked: number, otherwise = ""): { dir: string; calls: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "apt-"));
  const calls = path.join(dir, "calls");
  fs.writeFileSync(
    path.join(dir, "apt-get"),
    `#!/usr/bin/env bash
echo "$*" >> "${calls}"
n=$(wc -l < "${calls}")
if (( n <= ${locked} )); then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)" >&2
  echo "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?" >&2
  exit 100
fi
${otherwise ? `echo "${otherwise}" >&2; exit 100` : "exit 0"}
`,
    { mode: 0o755 },
  );
  return { dir, calls };
}

function aptGet(dir: string, env: Record<string, string>) {
  return spawnSync("bash", ["-c", "source scripts/apt-get-wait.sh && apt_get install -y chromium"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, sudo: "", ...env },
  });
}

test("install.sh waits for another process's dpkg lock, saying so, then installs", () => {
  const { dir, calls } = stubApt(2);
  const run = aptGet(dir, { APT_LOCK_POLL_S: "0", APT_LOCK_WAIT_S: "60" });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(fs.readFileSync(calls, "utf8").trim().split("\n").length, 3);
  assert.match(run.stderr, /another apt\/dpkg process holds the lock \(held by process 4242 \(unattended-upgr\)\); waiting for it/);
  assert.match(fs.readFileSync(calls, "utf8"), /-o DPkg::Lock::Timeout=0 install -y chromium/);
});

test("the wait is bounded, and other apt errors fail at once", () => {
  const held = stubApt(1000);
  const timedOut = aptGet(held.dir, { APT_LOCK_POLL_S: "1", APT_LOCK_WAIT_S: "2" });
  assert.equal(timedOut.status, 100);
  assert.match(timedOut.stderr, /still holds the lock after \d+ s; run scripts\/install\.sh again/);
  const broken = stubApt(0, "E: Unable to locate package chromium");
  const failed = aptGet(broken.dir, { APT_LOCK_POLL_S: "0" });
  assert.equal(failed.status, 100);
  assert.match(failed.stderr, /Unable to locate package/);
  assert.equal(fs.readFileSync(broken.calls, "utf8").trim().split("\n").length, 1);
});
