"""The registry as gunicorn serves it in bench/throughput.py: the benchmark's database and temporary folder."""

import os

import data

from registry import create_app

app = create_app(data.app_config(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_TMP"]))
