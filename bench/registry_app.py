"""The registry as gunicorn serves it in bench/throughput.py: the benchmark's database and temporary folder, and
the page cache as configured in production unless BENCH_PAGE_CACHE_BYTES says otherwise (0: every page rendered)."""

import os

import data

from registry import create_app

config = data.app_config(os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_TMP"])
config["PAGE_CACHE_BYTES"] = int(os.environ.get("BENCH_PAGE_CACHE_BYTES", str(32 * 1024 * 1024)))
app = create_app(config)
