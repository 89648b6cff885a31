import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import { compileError, installKernel, jupyterEnv, jupyterPython, kernelInstalled, runtimeError, sourceLineOf } from "../../lib/report";
import { PROJECT_ROOT } from "../../lib/data";

const ANSI = /\u001b\[[0-9;]*m/g;
const plain = (lines: readonly string[]) => lines.map((l) => l.replace(ANSI, ""));

test("a compiled line is traced back to its source line across dropped types, blank lines and tslab's rewrites", () => {
  const source = `import { formatNumber } from "./lib/viz";\nconst a: number = 3;\n\ninterface P { x: number }\n// comment\nlet b = formatNumber(a);\nfunction f(x: number) {\n\n  return x * 2;\n}\nconsole.log(f(a), b);`;
  const output = [
    `Object.defineProperty(exports, "__esModule", { value: true });`,
    `exports.b = exports.a = exports.formatNumber = exports.f = exports.tsLastExpr = void 0;`,
    `const viz_1 = require("./lib/viz");`,
    `Object.defineProperty(exports, "formatNumber", { enumerable: true, get: function () { return viz_1.formatNumber; } });`,
    `const a = 3;`, `exports.a = a;`, `// comment`, `let b = (0, viz_1.formatNumber)(a);`, `exports.b = b;`,
    `function f(x) {`, `    return x * 2;`, `}`, `exports.f = f;`, `exports.tsLastExpr = console.log(f(a), b);`,
  ].join("\n");
  const at = (text: string) => output.split("\n").indexOf(text);
  assert.equal(sourceLineOf(source, output, at("const a = 3;")), 1);
  assert.equal(sourceLineOf(source, output, at("let b = (0, viz_1.formatNumber)(a);")), 5);
  assert.equal(sourceLineOf(source, output, at("    return x * 2;")), 8);
  assert.equal(sourceLineOf(source, output, at("exports.tsLastExpr = console.log(f(a), b);")), 10);
  assert.equal(sourceLineOf(source, output, at("exports.a = a;")), undefined);
});

test("a type error shows the cell's line with a caret under the offending code and the message with its code", () => {
  const error = compileError(
    [{ start: { line: 1, character: 4 }, end: { line: 1, character: 5 }, messageText: "Type 'string' is not assignable to type 'number'.", code: 2322 }],
    { count: 7, source: "const s: string = 'x';\nlet q: number = s;\nconsole.log(q);" },
    PROJECT_ROOT,
  );
  assert.equal(error.ename, "TSError");
  assert.equal(error.evalue, "Type 'string' is not assignable to type 'number'.");
  assert.deepEqual(plain(error.traceback), [
    "TSError: Type 'string' is not assignable to type 'number'.",
    "",
    "Cell In[7], line 2",
    "      1 const s: string = 'x';",
    "----> 2 let q: number = s;",
    "            ^",
    "      3 console.log(q);",
    "error Type 'string' is not assignable to type 'number'. (TS2322)",
  ]);
});

test("a runtime error keeps only cell and project frames unless TSLAB_FULL_TRACEBACK asks for all", () => {
  const error = new RangeError("too big");
  error.stack = [
    "RangeError: too big",
    `    at check (${PROJECT_ROOT}/lib/util/x.ts:3:9)`,
    "    at Proxy.run (tslab-cell-2:2:11)",
    "    at tslab-cell-2:4:1",
    "    at tslab-cell-2:6:3",
    "    at Script.runInThisContext (node:vm:135:14)",
    `    at execute (${PROJECT_ROOT}/node_modules/tslab/dist/executor.js:160:38)`,
  ].join("\n");
  const cells = new Map([[2, { count: 5, source: "function run() {\n  return check(1);\n}\nrun();", output: `function run() {\n    return (0, x_1.check)(1);\n}\nrun();` }]]);
  const shown = plain(runtimeError(error, cells, { root: PROJECT_ROOT }).traceback).join("\n");
  assert.match(shown, /^RangeError {2}Traceback \(most recent call last\)/);
  assert.match(shown, /Cell In\[5\], line 4\n(.*\n)*----> 4 run\(\);/);
  assert.match(shown, /Cell In\[5\], line 2, in run\n(.*\n)*----> 2 {3}return check\(1\);/);
  assert.match(shown, /at check \(lib\/util\/x\.ts:3:9\)/);
  assert.match(shown, /RangeError: too big$/);
  assert.doesNotMatch(shown, /node:vm|node_modules|tslab-cell/);
  const full = plain(runtimeError(error, cells, { root: PROJECT_ROOT, full: true }).traceback).join("\n");
  assert.match(full, /node_modules\/tslab\/dist\/executor\.js/);
});

// The kernel itself, through jupyter_client as Jupyter and nbclient talk to it.
const DRIVER = `
import json, sys, time
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="tslab", startup_timeout=120)
results = []
try:
    for code in json.loads(sys.argv[1]):
        time.sleep(0.4)  # tslab drops requests that arrive within 200 ms of a failed cell (its stop-on-error)
        msg_id = kc.execute(code)
        outputs = []
        while True:
            msg = kc.get_iopub_msg(timeout=180)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                break
            if kind in ("stream", "error"):
                outputs.append({"type": kind, **msg["content"]})
        while True:
            reply = kc.get_shell_msg(timeout=180)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        results.append({"reply": reply["content"], "outputs": outputs})
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(results))
`;

interface KernelResult {
  reply: { status: string; ename?: string; evalue?: string; traceback?: string[] };
  outputs: { type: string; name?: string; text?: string; ename?: string; evalue?: string; traceback?: string[] }[];
}

test("the project kernel answers a runtime error and a type error with Jupyter error outputs a student can read", { timeout: 300_000 }, () => {
  if (!kernelInstalled()) installKernel();
  const cells = [
    `function mean(xs: number[]): number {\n  const first: any = undefined;\n  return first.value / xs.length;\n}\nconsole.log("defined");`,
    `const values = [1, 2, 3];\n\n// the student's call\nconst m = mean(values);`,
    `const label: string = "x";\nlet count: number = label;`,
    `console.log("still alive");`,
  ];
  const run = spawnSync(jupyterPython(), ["-c", DRIVER, JSON.stringify(cells)], { encoding: "utf8", env: jupyterEnv(), timeout: 280_000 });
  assert.equal(run.status, 0, run.stderr);
  const results = JSON.parse(run.stdout.trim().split("\n").pop()!) as KernelResult[];

  assert.equal(results[0].reply.status, "ok");
  const runtime = results[1];
  assert.equal(runtime.reply.status, "error");
  assert.equal(runtime.reply.ename, "TypeError");
  const runtimeOutput = runtime.outputs.find((o) => o.type === "error")!;
  assert.ok(runtimeOutput, "an error output");
  assert.equal(runtimeOutput.ename, "TypeError");
  assert.equal(runtimeOutput.evalue, "Cannot read properties of undefined (reading 'value')");
  assert.ok(!runtime.outputs.some((o) => o.type === "stream" && o.name === "stderr"), "no stderr stream");
  const trace = plain(runtimeOutput.traceback!);
  assert.ok(trace.includes("----> 4 const m = mean(values);"), trace.join("\n"));
  assert.ok(trace.includes("----> 3   return first.value / xs.length;"), trace.join("\n"));
  assert.ok(trace.some((l) => /^Cell In\[1\], line 3, in mean$/.test(l)), trace.join("\n"));
  assert.equal(trace[trace.length - 1], "TypeError: Cannot read properties of undefined (reading 'value')");
  assert.ok(!trace.some((l) => /node:|node_modules|tslab-cell|executor\.js/.test(l)), trace.join("\n"));

  const typeError = results[2];
  assert.equal(typeError.reply.status, "error");
  const typeOutput = typeError.outputs.find((o) => o.type === "error")!;
  assert.equal(typeOutput.ename, "TSError");
  assert.equal(typeOutput.evalue, "Type 'string' is not assignable to type 'number'.");
  const typeTrace = plain(typeOutput.traceback!);
  const at = typeTrace.indexOf("----> 2 let count: number = label;");
  assert.ok(at > 0, typeTrace.join("\n"));
  assert.equal(typeTrace[at + 1], "            ^^^^^");
  assert.ok(typeTrace.includes("error Type 'string' is not assignable to type 'number'. (TS2322)"));

  assert.equal(results[3].reply.status, "ok");
  assert.ok(results[3].outputs.some((o) => o.text?.includes("still alive")));
});
