import collections
import sys

from bottle import Bottle, request, run, template

PAGE = """<form><input name="q" value="{{q}}"> <button>Search</button></form>
<p>{{count}} matching line(s)</p><pre>{{text}}</pre>"""
app = Bottle()


def read_lines():
    with open(sys.argv[1], encoding="utf-8") as log:
        return [line.rstrip("\n") for line in log if line.strip()]


@app.get("/")
def search():
    q = request.query.q
    matches = [line for line in read_lines() if q.lower() in line.lower()]
    return template(PAGE, q=q, count=len(matches), text="\n".join(matches))


@app.get("/api/levels")
def levels():
    return dict(sorted(collections.Counter(line.split()[0] for line in read_lines()).items()))


if __name__ == "__main__":
    run(app, host="127.0.0.1", port=int(sys.argv[2]) if len(sys.argv) > 2 else 8080)
