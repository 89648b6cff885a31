import * as fs from "fs";
import * as path from "path";

export interface PageCheck {
  file: string;
  screenshot: string;
  /** Figure containers in the page (class poi-plot). */
  plots: number;
  /** Figures that plotly actually drew (an SVG inside the container). */
  rendered: number;
  /** Requests for anything but the page itself and data: URLs (blocked): a self-contained page has none. */
  externalRequests: string[];
  /** Uncaught errors in the page. */
  pageErrors: string[];
  /** Code and text blocks whose lines run past their box (cut off, or off the right edge of the page). */
  overflowing: number;
  ok: boolean;
}

/** Debian's Chromium (apt package `chromium`); override with CHROMIUM_PATH. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH ?? "/usr/bin/chromium";
}

/**
 * Open each HTML file in headless Chromium with the network cut off, wait for plotly to draw, take a screenshot
 * next to it (`screenshots/<name>.png`) and count drawn figures.
 */
export async function checkPages(files: readonly string[], options: { timeoutMs?: number } = {}): Promise<PageCheck[]> {
  // playwright-core ships no browser download; it drives the system Chromium.
  const { chromium } = require("playwright-core") as typeof import("playwright-core");
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) throw new Error(`Chromium not found at ${executablePath}: apt-get install chromium (or set CHROMIUM_PATH)`);
  const browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const checks: PageCheck[] = [];
  try {
    for (const file of files) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const externalRequests: string[] = [];
      const pageErrors: string[] = [];
      const pageUrl = "file://" + path.resolve(file);
      await page.route("**/*", (route) => {
        const url = route.request().url();
        // Only the page itself and inline data: a file:// reference elsewhere would break on another machine.
        if (url === pageUrl || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
        externalRequests.push(url);
        return route.abort();
      });
      page.on("pageerror", (err) => pageErrors.push(err.message));
      await page.goto(pageUrl, { waitUntil: "load", timeout: options.timeoutMs ?? 60_000 });
      // Runs in the page; a string keeps DOM types out of the library (tslab compiles lib/ without the DOM lib).
      const count = () =>
        page.evaluate(`(() => {
          const plots = Array.from(document.querySelectorAll(".poi-plot"));
          return { plots: plots.length, rendered: plots.filter((div) => div.querySelector(".main-svg")).length };
        })()`) as Promise<{ plots: number; rendered: number }>;
      let counts = await count();
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      while (counts.rendered < counts.plots && Date.now() < deadline) {
        await page.waitForTimeout(250);
        counts = await count();
      }
      const overflowing = (await page.evaluate(`(() => {
        const blocks = Array.from(document.querySelectorAll(".jp-InputArea-editor pre, .jp-RenderedText pre"));
        const cut = blocks.filter((el) => el.scrollWidth > el.clientWidth + 1).length;
        return cut + (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1 ? 1 : 0);
      })()`)) as number;
      const shotDir = path.join(path.dirname(file), "screenshots");
      fs.mkdirSync(shotDir, { recursive: true });
      const screenshot = path.join(shotDir, path.basename(file, ".html") + ".png");
      await page.screenshot({ path: screenshot, fullPage: true });
      await context.close();
      checks.push({
        file,
        screenshot,
        ...counts,
        externalRequests,
        pageErrors,
        overflowing,
        ok: counts.rendered === counts.plots && externalRequests.length === 0 && pageErrors.length === 0 && overflowing === 0,
      });
    }
  } finally {
    await browser.close();
  }
  return checks;
}
