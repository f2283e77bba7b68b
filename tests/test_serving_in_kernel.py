"""The serving helper inside a real IPython kernel: server output never lands in a cell."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

START = '''
import sys, time, requests
from backendlab import serve

def app(environ, start_response):
    print("printed by the server thread")
    print("written to stderr by the server thread", file=sys.stderr)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

with serve(app, name="first") as server:
    requests.get(server.url, timeout=5)
print(len(server.log))
'''
# IPython re-assigns sys.stdout.write around every cell: routing must survive into later cells.
LATER_CELL = '''
with serve(app, name="second") as server:
    requests.get(server.url, timeout=5)
print(len(server.log))
'''
LONG_LIVED = 'server = serve(app, name="third")'
USED_FROM_ANOTHER_CELL = '''
requests.get(server.url, timeout=5)
time.sleep(0.1)
print(len(server.log))
server.stop()
'''


def test_server_thread_output_stays_in_the_server_log_across_cells() -> None:
    cells = [nbformat.v4.new_code_cell(source) for source in (START, LATER_CELL, LONG_LIVED, USED_FROM_ANOTHER_CELL)]
    notebook = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(notebook, kernel_name="python3", timeout=60).execute()
    outputs = [[(o.get("name"), o.get("text")) for o in cell.outputs] for cell in notebook.cells]
    assert outputs == [[("stdout", "2\n")], [("stdout", "2\n")], [], [("stdout", "2\n")]], outputs
