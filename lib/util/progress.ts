/**
 * Progress for long work (images embedded, epochs, trials): one line updated in place in a notebook cell,
 * and a line every few seconds on the command line.
 */
export interface Progress {
  /** Mark `count` more items done; `detail` is appended to the line (e.g. "loss 0.41"). */
  tick(count?: number, detail?: string): void;
  /** Print the final line (done/total, elapsed, rate). */
  done(detail?: string): void;
}

interface LiveDisplay {
  text(content: string): void;
}

function notebookLine(): LiveDisplay | null {
  try {
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
    if (!jupyter.lastWriteDisplayData) return null;
    return (require("tslab") as { newDisplay(): LiveDisplay }).newDisplay();
  } catch {
    return null;
  }
}

/** 42 s, 3 min 05 s, 1 h 02 min. */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

export function createProgress(label: string, total: number, options: { unit?: string; intervalMs?: number } = {}): Progress {
  const unit = options.unit ?? "items";
  const interval = options.intervalMs ?? 2000;
  const started = Date.now();
  const live = notebookLine();
  let doneCount = 0;
  let lastPrinted = 0;
  const line = (detail?: string) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? doneCount / seconds : 0;
    const percent = total > 0 ? ` (${((100 * doneCount) / total).toFixed(0)}%)` : "";
    // ETA at the average rate so far (shown once something is done, until the end).
    const eta = rate > 0 && doneCount < total ? `, ETA ${formatSeconds((total - doneCount) / rate)}` : "";
    return `${label}: ${doneCount}/${total} ${unit}${percent}, ${seconds.toFixed(1)} s, ${rate.toFixed(1)} ${unit}/s${eta}${detail ? ` — ${detail}` : ""}`;
  };
  const emit = (detail?: string, force = false) => {
    const now = Date.now();
    if (!force && now - lastPrinted < (live ? 250 : interval)) return;
    lastPrinted = now;
    if (live) live.text(line(detail));
    else console.log(line(detail));
  };
  return {
    tick(count = 1, detail) {
      doneCount += count;
      emit(detail);
    },
    done(detail) {
      emit(detail, true);
    },
  };
}
