import { PlotlyFigure } from "./figure";
import { figureHtml, plotlyLibraryScript } from "./html";
import { GridItem, imageGridHtml } from "./images";
import { Row, tableHtml, TableOptions, tableText } from "./table";
import type { ColumnTable } from "arquero";

interface RichDisplay {
  html(content: string): void;
  markdown(content: string): void;
}

/** tslab's display when running inside the notebook kernel, otherwise null (tests, command line). */
function notebookDisplay(): RichDisplay | null {
  try {
    const tslab = require("tslab") as { display: RichDisplay & { raw?: unknown } };
    // tslab's display throws "Not ready" outside a kernel; probe without sending anything.
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData?: unknown };
    return jupyter.lastWriteDisplayData ? tslab.display : null;
  } catch {
    return null;
  }
}

let plotlyShown = false;

/** Show HTML in the notebook (no-op outside one). */
export function showHtml(html: string): void {
  notebookDisplay()?.html(html);
}

export function showMarkdown(markdown: string): void {
  const display = notebookDisplay();
  if (display) display.markdown(markdown);
  else console.log(markdown);
}

/** Show a plotly figure; the first figure of a kernel session carries plotly.js itself, so the page works offline. */
export function show(figure: PlotlyFigure): void {
  const display = notebookDisplay();
  if (!display) return;
  const library = plotlyShown ? "" : plotlyLibraryScript();
  plotlyShown = true;
  display.html(library + figureHtml(figure));
}

/** Show records or an arquero table as an HTML table (plain text on the command line). */
export function showTable(source: readonly Row[] | ColumnTable, options: TableOptions = {}): void {
  const display = notebookDisplay();
  if (display) display.html(tableHtml(source, options));
  else console.log(tableText(source, options));
}

export async function showImageGrid(items: readonly GridItem[], options: { size?: number; columns?: number; title?: string } = {}): Promise<void> {
  const display = notebookDisplay();
  if (display) display.html(await imageGridHtml(items, options));
}
