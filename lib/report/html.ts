import { plotlyLibraryScript, PLOTLY_LIB_MARKER } from "../viz";

const LIB_SCRIPT = new RegExp(`<script id="${PLOTLY_LIB_MARKER}"[^>]*>[\\s\\S]*?</script>`, "g");
// Anything loaded from a URL: CDN links, and Debian nbconvert's file:///usr/share/javascript/... (require.js,
// MathJax), which exist only on the machine that exported the page.
const EXTERNAL_SCRIPT = /<script\b[^>]*\bsrc="(?!data:)[^"]*"[^>]*>\s*<\/script>/gi;
const EXTERNAL_STYLESHEET = /<link\b[^>]*\bhref="(?!data:|#)[^"]*"[^>]*>/gi;

export interface SelfContainedResult {
  html: string;
  plots: number;
  /** External <script>/<link> tags removed (nbconvert's require.js and MathJax). */
  removedExternal: number;
}

/**
 * Make an exported notebook page render with no network: exactly one inline plotly.js (first in the page, so every
 * figure's script finds it or is queued for it) and no scripts or stylesheets loaded from elsewhere (the notebooks use no LaTeX, so MathJax goes too).
 */
export function makeSelfContained(html: string): SelfContainedResult {
  let removedExternal = 0;
  let out = html.replace(EXTERNAL_SCRIPT, () => {
    removedExternal++;
    return "";
  });
  out = out.replace(EXTERNAL_STYLESHEET, () => {
    removedExternal++;
    return "";
  });
  const plots = (out.match(/class="poi-plot"/g) ?? []).length;
  const libraries = (out.match(LIB_SCRIPT) ?? []).length;
  if (libraries === 1 || (libraries === 0 && plots === 0)) return { html: out, plots, removedExternal };
  // Re-executed cells can leave the library out (or, merged by hand, twice): keep one copy at the end of <body>,
  // after all figure scripts have queued themselves.
  out = out.replace(LIB_SCRIPT, "");
  if (plots > 0) {
    const library = plotlyLibraryScript();
    out = out.includes("</body>") ? out.replace("</body>", () => `${library}\n</body>`) : out + library;
  }
  return { html: out, plots, removedExternal };
}
