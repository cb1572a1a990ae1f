"""Exit 0 when PostgreSQL answers at the URL given (used by `make test`)."""

import sys

import psycopg


def main(url: str) -> int:
    try:
        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
    except psycopg.Error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
