#!/usr/bin/env bash
# The single binary's size, cold start (exec -> first 200 from /health, fresh database, so migrations
# included) and idle memory (RSS one second after start). Build first: npm run build.
set -u
bin=${1:-dist/b24app}
[ -x "$bin" ] || { echo "no $bin: run npm run build" >&2; exit 1; }
echo "binary: $(du -h "$bin" | cut -f1) ($(stat -c %s "$bin") bytes)"
d=$(mktemp -d)
for i in 1 2 3 4 5; do
  port=$((30000 + i))
  start=$(date +%s%N)
  BITRIX24_CLIENT_ID=local.x.1 BITRIX24_CLIENT_SECRET=secretsecret APP_SECRET=0123456789abcdef0123456789abcdef DATABASE_URL=sqlite:$d/db$i.db HOST=127.0.0.1 PORT=$port LOG_LEVEL=warn WORKERS=1 "$bin" serve & pid=$!
  until curl -fs http://127.0.0.1:$port/health >/dev/null 2>&1; do sleep 0.002; done
  end=$(date +%s%N)
  sleep 1
  rss=$(ps -o rss= -p $pid)
  echo "run $i: cold start $(( (end-start)/1000000 )) ms, idle RSS ${rss} KB"
  kill $pid; wait $pid 2>/dev/null
done
rm -rf $d
