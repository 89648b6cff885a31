import { plotlyLibraryScript, PLOTLY_LIB_MARKER } from "../viz";

const LIB_SCRIPT = new RegExp(`<script id="${PLOTLY_LIB_MARKER}"[^>]*>[\\s\\S]*?</script>`, "g");
// Anything loaded from a URL: CDN links, and Debian nbconvert's file:///usr/share/javascript/... (require.js,
// MathJax), which exist only on the machine that exported the page.
const EXTERNAL_SCRIPT = /<script\b[^>]*\bsrc="(?!data:)[^"]*"[^>]*>\s*<\/script>/gi;
const EXTERNAL_STYLESHEET = /<link\b[^>]*\bhref="(?!data:|#)[^"]*"[^>]*>/gi;

/** Marks the report stylesheet, added once per page. */
export const REPORT_STYLE_ID = "poi-report-style";

/**
 * How a handed-in report reads on paper-width screens: long code lines and long printed lines wrap instead of
 * running off the right edge (nbconvert's template keeps them on one line); tables keep words whole (a wide table
 * scrolls inside its cell instead of breaking headers mid-word) and sit at the left like the text; an
 * injected-parameters cell (papermill's convention) is marked as such.
 */
export const REPORT_CSS = `
.jp-InputArea-editor .highlight pre, .jp-InputArea-editor pre, .jp-RenderedText pre, .jp-OutputArea-output pre {
  white-space: pre-wrap !important; overflow-wrap: anywhere; word-break: normal;
}
.jp-OutputArea-output { overflow-x: auto; max-width: 100%; }
.jp-RenderedHTMLCommon figure.poi-captioned { margin: 0.6em 0; }
.jp-RenderedHTMLCommon figcaption.poi-caption { max-width: 60em; }
.jp-RenderedHTMLCommon table { margin-left: 0; }
.jp-RenderedHTMLCommon table.poi-table { table-layout: auto; margin: 0; }
.jp-RenderedHTMLCommon table.poi-table th { white-space: nowrap; }
.jp-RenderedHTMLCommon table.poi-table td { max-width: 40em; }
.celltag_injected-parameters .jp-InputArea-editor { border-left: 4px solid #e69f00; }
.celltag_injected-parameters .jp-InputArea-editor::before { content: "injected parameters"; display: block; font: 11px sans-serif; color: #8a5300; padding: 2px 6px; }
`;

export interface SelfContainedResult {
  html: string;
  plots: number;
  /** External <script>/<link> tags removed (nbconvert's require.js and MathJax). */
  removedExternal: number;
}

/**
 * Make an exported notebook page render with no network: exactly one inline plotly.js (first in the page, so every
 * figure's script finds it or is queued for it) and no scripts or stylesheets loaded from elsewhere (the notebooks use no LaTeX, so MathJax goes too);
 * plus the report stylesheet (REPORT_CSS: wrapped code lines, captions above tables).
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
  if (!out.includes(`id="${REPORT_STYLE_ID}"`)) {
    const style = `<style id="${REPORT_STYLE_ID}">${REPORT_CSS}</style>`;
    out = out.includes("</head>") ? out.replace("</head>", () => `${style}\n</head>`) : style + out;
  }
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
