#!/usr/bin/env bash
# `make demo`: a throwaway local registry + GitOps repository, one agent
# cycle, and what it committed. Everything lives under one directory
# (DEMO_DIR, default ./demo); `make demo-clean` removes it. Only 127.0.0.1
# is ever contacted.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
demo=${DEMO_DIR:-$top/demo}

if [ "${1:-}" = "--clean" ]; then
	if [ -f "$demo/registry.pid" ]; then
		kill "$(cat "$demo/registry.pid")" 2>/dev/null || true
	fi
	rm -rf "$demo"
	echo "removed $demo"
	exit 0
fi

bin=${1:?usage: demo.sh PATH-TO-magos-dominus | --clean}
py=/usr/bin/python3

if [ -e "$demo" ]; then
	echo "demo: $demo already exists; run 'make demo-clean' first" >&2
	exit 1
fi
mkdir -p "$demo"
echo "demo: everything goes under $demo"

port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry=127.0.0.1:$port

cat >"$demo/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $demo/registry-data
  delete:
    enabled: true
http:
  addr: $registry
YAML
docker-registry serve "$demo/registry.yml" >"$demo/registry.log" 2>&1 &
echo $! >"$demo/registry.pid"
trap 'kill "$(cat "$demo/registry.pid")" 2>/dev/null || true; rm -f "$demo/registry.pid"' EXIT

for _ in $(seq 50); do
	if $py -c "import urllib.request,sys; urllib.request.urlopen('http://$registry/v2/', timeout=1)" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
echo "demo: registry on http://$registry (log: $demo/registry.log)"

$py "$top/tests/integration/seed_demo.py" "$registry" demo/web 1.0.0 1.0.1 1.1.0 2.0.0-rc.1 2.0.0 latest
$py "$top/tests/integration/seed_demo.py" "$registry" demo/tools latest

# The GitOps repository: a bare "remote" seeded from examples/gitops, with
# the example's registry address replaced by the demo registry's.
export GIT_CONFIG_NOSYSTEM=1 HOME="$demo/home"
mkdir -p "$HOME" "$demo/seed"
git init -q --bare -b main "$demo/remote.git"
cp -r "$top/examples/gitops/." "$demo/seed/"
find "$demo/seed" -name '*.yaml' -exec sed -i "s/127\.0\.0\.1:5000/$registry/g" {} +
git -C "$demo/seed" init -q -b main
git -C "$demo/seed" add -A
git -C "$demo/seed" -c user.name=demo -c user.email=demo@localhost commit -q -m "Initial homelab stacks"
git -C "$demo/seed" push -q "$demo/remote.git" main
rm -rf "$demo/seed"

cat >"$demo/magos.env" <<ENV
MD_REPO=$demo/clone
MD_GIT_URL=file://$demo/remote.git
MD_BRANCH=main
MD_STATE_DIR=$demo/state
MD_INSECURE_REGISTRIES=$registry
MD_INTERVAL=1m
ENV

echo
echo "\$ magos-dominus --config $demo/magos.env once"
"$bin" --config "$demo/magos.env" once
echo
echo "\$ git -C $demo/clone show HEAD"
git -C "$demo/clone" --no-pager show HEAD
echo
echo "\$ git --git-dir $demo/remote.git log --oneline"
git --git-dir "$demo/remote.git" --no-pager log --oneline
echo
echo "demo: done. Files are in $demo; 'make demo-clean' removes them."
