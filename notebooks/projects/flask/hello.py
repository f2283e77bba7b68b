from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return {"message": "Hello from Flask"}


@app.get("/hello/<name>")
def hello(name):
    return f"Hello, {name}!"


@app.get("/ratio/<int:a>/<int:b>")
def ratio(a, b):
    return {"ratio": a / b}  # a bug on purpose: b may be 0
