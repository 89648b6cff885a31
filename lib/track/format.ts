/**
 * The small text formats of MLflow's file store, written the way MLflow (Python) writes them so the
 * files are byte-for-byte what `mlflow` itself would produce:
 * - meta.yaml: PyYAML `safe_dump(default_flow_style=False, sort_keys=True)` of a flat mapping;
 * - metric lines: `f"{timestamp} {value} {step}\n"` with Python's `repr(float)` for the value.
 */

/** An empty list is the only list the MLflow files hold (`tags: []`). */
export const EMPTY_LIST: readonly never[] = [] as never[];
export type YamlValue = string | number | boolean | null | readonly never[];

// PyYAML's implicit resolvers: a plain scalar matching one of these would load as a non-string,
// so strings that look like this are written single-quoted.
const IMPLICIT_NON_STRING = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:<<|=)$/,
];

/** Whether PyYAML would emit this string as a plain (unquoted) block scalar. */
function isPlainSafe(text: string): boolean {
  if (text.length === 0) return false;
  if (IMPLICIT_NON_STRING.some((pattern) => pattern.test(text))) return false;
  if (/^\s|\s$/.test(text)) return false;
  if (text.startsWith("---") || text.startsWith("...")) return false;
  // Indicators that cannot start a plain scalar in block context.
  if (/^[#,[\]{}&*!|>'"%@`]/.test(text)) return false;
  if (/^[-?:](\s|$)/.test(text)) return false;
  if (/:(\s|$)/.test(text) || /\s#/.test(text)) return false;
  // Line breaks, control characters and non-printable code points need the double-quoted style.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(text)) return false;
  return true;
}

function yamlString(text: string): string {
  if (isPlainSafe(text)) return text;
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(text)) return `'${text.replace(/'/g, "''")}'`;
  return JSON.stringify(text);
}

function yamlScalar(value: YamlValue): string {
  if (value === null) return "null";
  if (Array.isArray(value)) {
    if (value.length > 0) throw new Error("yaml: only empty lists are supported in meta.yaml");
    return "[]";
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isInteger(value)) return pythonFloatRepr(value);
    return String(value);
  }
  return yamlString(value as string);
}

/** A flat mapping as PyYAML's `safe_dump(data, default_flow_style=False)` writes it (keys sorted). */
export function dumpFlatYaml(data: Readonly<Record<string, YamlValue>>): string {
  const keys = Object.keys(data).sort();
  return keys.map((key) => `${yamlString(key)}: ${yamlScalar(data[key])}\n`).join("");
}

/**
 * Reads the flat `key: value` meta.yaml files of a file store (ours or MLflow's). Values: plain or
 * quoted strings, integers, floats, null, booleans, `[]`. Not a general YAML parser.
 */
export function parseFlatYaml(text: string, source = "meta.yaml"): Record<string, YamlValue> {
  const out: Record<string, YamlValue> = {};
  let lastKey: string | null = null;
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    if (/^\s/.test(line)) {
      // PyYAML folds long plain/quoted scalars onto indented continuation lines.
      if (lastKey !== null && typeof out[lastKey] === "string") {
        out[lastKey] = `${out[lastKey] as string} ${unquote(line.trim())}`;
        continue;
      }
      throw new Error(`${source}:${n + 1}: unexpected indented line: ${line}`);
    }
    const match = /^('(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^:]+):(?:\s+(.*))?$/.exec(line);
    if (!match) throw new Error(`${source}:${n + 1}: expected "key: value", got: ${line}`);
    const key = unquote(match[1]);
    out[key] = parseScalar(match[2] ?? "");
    lastKey = key;
  }
  return out;
}

function unquote(text: string): string {
  if (text.startsWith("'") && text.endsWith("'") && text.length >= 2) return text.slice(1, -1).replace(/''/g, "'");
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) return JSON.parse(text) as string;
  return text;
}

function parseScalar(raw: string): YamlValue {
  const text = raw.trim();
  if (text === "" || text === "~" || /^(null|Null|NULL)$/.test(text)) return null;
  if (text === "[]") return EMPTY_LIST;
  if (text.startsWith("'") || text.startsWith('"')) return unquote(text);
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$/.test(text) && /[0-9]/.test(text)) return Number(text.replace(/_/g, ""));
  return text;
}

/**
 * Python's `repr(float(x))`: shortest round-trip digits (same as JavaScript), but scientific notation
 * below 1e-4 and from 1e16 on, a two-digit exponent (`1e-05`), and `.0` on integral values.
 */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exponentText] = x.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  // Positional: rebuild from the shortest digits so that no toString exponent form slips in.
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let body: string;
  if (exponent >= 0) {
    const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    const fracPart = digits.slice(exponent + 1);
    body = `${intPart}.${fracPart === "" ? "0" : fracPart}`;
  } else {
    body = `0.${"0".repeat(-exponent - 1)}${digits}`;
  }
  return (negative ? "-" : "") + body;
}

/** One metric line exactly as MLflow's FileStore appends it. */
export function metricLine(timestamp: number, value: number, step: number): string {
  return `${Math.trunc(timestamp)} ${pythonFloatRepr(value)} ${Math.trunc(step)}\n`;
}

export interface MetricPoint {
  timestamp: number;
  value: number;
  step: number;
}

/** Parses a metric file; a torn last line (a crash mid-append) is skipped, other bad lines throw. */
export function parseMetricLines(text: string, source: string): MetricPoint[] {
  const points: MetricPoint[] = [];
  const lines = text.split("\n");
  const complete = text.endsWith("\n") ? lines.slice(0, -1) : lines.slice(0, -1);
  complete.forEach((line, i) => {
    if (line.trim() === "") return;
    const parts = line.trim().split(" ");
    if (parts.length !== 2 && parts.length !== 3) {
      throw new Error(`${source}:${i + 1}: expected "timestamp value [step]", got: ${line}`);
    }
    const value = parts[1] === "nan" ? NaN : parts[1] === "inf" ? Infinity : parts[1] === "-inf" ? -Infinity : Number(parts[1]);
    points.push({ timestamp: Number(parts[0]), value, step: parts.length === 3 ? Number(parts[2]) : 0 });
  });
  return points;
}
