#!/bin/sh
# Print a Redis URL for the tests: the machine's Redis on 6379 if it answers, else a
# private redis-server started under .data/ (the tests need a real Redis).
if command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "redis://127.0.0.1:6379/15"
    exit 0
fi
sh scripts/apt-install.sh redis-server redis-server >&2 || exit 1
mkdir -p .data/redis
redis-cli -h 127.0.0.1 -p 6389 ping >/dev/null 2>&1 || \
    redis-server --daemonize yes --bind 127.0.0.1 --port 6389 --save "" --appendonly no \
        --dir "$(pwd)/.data/redis" --logfile "$(pwd)/.data/redis/redis.log" >/dev/null
echo "redis://127.0.0.1:6389/15"
