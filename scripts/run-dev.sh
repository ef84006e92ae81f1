#!/usr/bin/env bash
# Run the web server and a real Celery worker together on the embedded defaults.
# Ctrl-C stops both; if either exits, the other is stopped too.
set -uo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export DEBUG=${DEBUG:-1}

.venv/bin/celery -A config worker --loglevel=INFO --concurrency=2 --without-gossip --without-mingle &
worker=$!
.venv/bin/python manage.py runserver "$HOST:$PORT" &
web=$!

stop() {
  trap - INT TERM
  kill "$worker" "$web" 2>/dev/null
  wait "$worker" "$web" 2>/dev/null
}
trap 'stop; exit 130' INT TERM

sleep 2
cat <<MSG

  opready is running at  http://$HOST:$PORT/
  Demo login:            demo / opready-demo   (leader of Halvorsen Logistics)
  Consultant login:      consultant / opready-demo   (two client organisations)
  Press Ctrl-C to stop the web server and the worker.

MSG

wait -n "$worker" "$web"
status=$?
stop
exit $status
