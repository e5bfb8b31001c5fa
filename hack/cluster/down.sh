#!/usr/bin/env bash
# Stops the test cluster that up.sh started: only the processes recorded in $CLUSTER_RUN/*.pid,
# and only while each pid still runs the binary recorded with it (a reused pid is left alone).
# Removes $CLUSTER_RUN afterwards unless KEEP_RUN=1 (logs, etcd data).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

[ -d "$CLUSTER_RUN" ] || { echo "[down] nothing to stop ($CLUSTER_RUN does not exist)"; exit 0; }
for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
	name=${COMPONENTS[$i]}
	f=$CLUSTER_RUN/$name.pid
	[ -f "$f" ] || continue
	read -r pid bin <"$f"
	if [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin" ]; then
		kill -TERM "$pid"
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "[down] $name ($pid) ignored TERM for 10 s, killing it"
			kill -KILL "$pid"
		fi
		echo "[down] stopped $name ($pid)"
	fi
	rm -f "$f"
done
[ "${KEEP_RUN:-0}" = 1 ] || rm -rf "$CLUSTER_RUN"
