"""The bare Flask page the throughput benchmark compares the registry with (bench/throughput.py)."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
@app.route("/healthz")
def hello():
    return "hello"
