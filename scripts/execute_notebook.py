"""Execute one notebook with the project kernel and export it as HTML, even when a cell fails.

Called by lib/report/execute.ts (the pipeline is TypeScript; this is the thin Jupyter-side driver, run by Debian's
python which has nbclient/nbconvert). Unlike `jupyter nbconvert --execute`, it keeps the partial notebook and shows
the failing cell's own output (tslab prints compile errors as a stream, which nbconvert's error message leaves out).

usage: execute_notebook.py NOTEBOOK HTML_OUT IPYNB_OUT KERNEL_NAME CELL_TIMEOUT_S [WORKING_DIR [RUN_NAME]]
(WORKING_DIR: where the kernel starts, default the notebook's folder; RUN_NAME: the name progress lines show)
"""
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter


def main() -> int:
    notebook_path, html_path, ipynb_path, kernel_name, timeout = sys.argv[1:6]
    working_dir = sys.argv[6] if len(sys.argv) > 6 else os.path.dirname(os.path.abspath(notebook_path))
    notebook = nbformat.read(notebook_path, as_version=4)
    name = sys.argv[7] if len(sys.argv) > 7 else os.path.splitext(os.path.basename(notebook_path))[0]
    code_cells = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    started = time.time()
    cell_started = [started]
    running = [None]

    def on_cell_start(cell, cell_index):
        cell_started[0] = time.time()
        running[0] = cell

    def on_cell_executed(cell, cell_index, execute_reply):
        if cell.cell_type != "code":
            return
        number = code_cells.index(cell_index) + 1
        print(f"[{name}] cell {number}/{len(code_cells)} done in {time.time() - cell_started[0]:.1f} s", flush=True)

    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=int(timeout),
        resources={"metadata": {"path": working_dir}},
        on_cell_execute=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    status = 0
    try:
        client.execute()
    except (CellTimeoutError, DeadKernelError) as stopped:
        # No error output to show: say which cell and why, and still write the partial notebook and report.
        status = 1
        what = f"timed out after {timeout} s" if isinstance(stopped, CellTimeoutError) else "stopped: the kernel died"
        print(f"[{name}] a cell {what}:", file=sys.stderr)
        if running[0] is not None:
            print("----- cell -----\n" + running[0].source, file=sys.stderr)
    except CellExecutionError:
        status = 1
        failed = next(
            (c for c in notebook.cells if c.cell_type == "code" and c.get("execution_count") is not None and has_error(c)),
            None,
        ) or last_executed(notebook)
        print(f"[{name}] a cell failed:", file=sys.stderr)
        if failed is not None:
            print("----- cell -----\n" + failed.source + "\n----- output -----", file=sys.stderr)
            for output in failed.get("outputs", []):
                if output.get("output_type") == "stream":
                    print(output.get("text", ""), file=sys.stderr, end="")
                elif output.get("output_type") == "error":
                    print(f"{output.get('ename')}: {output.get('evalue')}", file=sys.stderr)
                    print("\n".join(output.get("traceback", [])), file=sys.stderr)
    os.makedirs(os.path.dirname(ipynb_path), exist_ok=True)
    nbformat.write(notebook, ipynb_path)
    body, _ = HTMLExporter().from_notebook_node(notebook)
    with open(html_path, "w", encoding="utf-8") as handle:
        handle.write(body)
    return status


def has_error(cell) -> bool:
    return any(
        o.get("output_type") == "error" or (o.get("output_type") == "stream" and o.get("name") == "stderr")
        for o in cell.get("outputs", [])
    )


def last_executed(notebook):
    executed = [c for c in notebook.cells if c.cell_type == "code" and c.get("outputs")]
    return executed[-1] if executed else None


if __name__ == "__main__":
    sys.exit(main())
