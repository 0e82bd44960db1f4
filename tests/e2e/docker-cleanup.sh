#!/usr/bin/env bash
# What tests/e2e/containers.sh leaves on the Docker engine, removed once its
# stack is down, so that repeated runs on one machine do not fill its disk:
#
#   docker-cleanup.sh PROJECT IMAGE...
#
#   1. IMAGE... (the run's own tags): removed, with their untagged layers;
#   2. leftovers of runs killed before their cleanup, more than
#      OBSLAB_E2E_STALE_HOURS (default 3) old by the epoch in their name
#      (project obslab-e2e-EPOCH-PID, images obslab-e2e/*:EPOCH-PID):
#      containers, volumes, networks, images; and the fixed tags of runs
#      before this script (obslab-local/server:e2e, obslab-local/loadgen:e2e);
#   3. the legacy builder's cache (untagged images made from the stand-ins,
#      label org.obslab.recipe) older than OBSLAB_E2E_CACHE_AGE (default 1h):
#      the latest build's, tagged obslab-e2e/build-cache:builder by
#      containers.sh, stays; a concurrent run's, younger, too;
#   4. BuildKit's cache, when compose builds with it, down to
#      OBSLAB_E2E_BUILD_CACHE (default 10GB) by `docker builder prune
#      --keep-storage`.
#
# The stand-ins of .ci/images.sh (obslab-local/*) are the cache of every run:
# kept. Never fails the run: what cannot be removed is named on stderr.
set -uo pipefail

project=${1:?usage: docker-cleanup.sh PROJECT IMAGE...}
shift
stale_hours=${OBSLAB_E2E_STALE_HOURS:-3}
warn() { printf '  cleanup: %s\n' "$*" >&2; }

# 1. The run's images (`down -v` removed its containers, network, volumes).
for image in "$@"; do
    if docker image inspect "$image" >/dev/null 2>&1; then
        docker rmi "$image" >/dev/null || warn "could not remove $image"
    fi
done
echo "  removed the stack of $project (containers, network, volumes) and its images: $*"

# 2. Runs killed before their cleanup.
now=$(date +%s)
stale() {
    local run=$1 epoch=${1%%-*}
    [[ $run =~ ^[0-9]+-[0-9]+$ ]] && ((now - epoch > stale_hours * 3600))
}
projects=$(docker ps -a --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}'
    docker volume ls --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}'
    docker network ls --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}')
for old in $(printf '%s\n' "$projects" | grep '^obslab-e2e-' | sort -u); do
    stale "${old#obslab-e2e-}" || continue
    warn "removing $old, left by a run killed more than $stale_hours h ago"
    filter=label=com.docker.compose.project=$old
    # shellcheck disable=SC2086 # lists of ids
    ids=$(docker ps -aq --filter "$filter")
    [[ -z $ids ]] || docker rm -f $ids >/dev/null || warn "could not remove the containers of $old"
    ids=$(docker volume ls -q --filter "$filter")
    [[ -z $ids ]] || docker volume rm $ids >/dev/null || warn "could not remove the volumes of $old"
    ids=$(docker network ls -q --filter "$filter")
    [[ -z $ids ]] || docker network rm $ids >/dev/null || warn "could not remove the network of $old"
done
for image in $(docker images --format '{{.Repository}}:{{.Tag}}' 'obslab-e2e/*'); do
    tag=${image##*:}
    if stale "$tag"; then
        docker rmi "$image" >/dev/null || warn "could not remove $image"
    fi
done
for image in obslab-local/server:e2e obslab-local/loadgen:e2e; do
    if docker image inspect "$image" >/dev/null 2>&1; then
        docker rmi "$image" >/dev/null || warn "could not remove $image"
    fi
done

# 3. and 4. The build cache, bounded.
age=${OBSLAB_E2E_CACHE_AGE:-1h}
pruned=$(docker image prune -f --filter label=org.obslab.recipe --filter "until=$age" 2>&1 | tail -n 1)
echo "  legacy build cache older than $age (untagged images): ${pruned:-nothing}"
pruned=$(docker builder prune -f --keep-storage "${OBSLAB_E2E_BUILD_CACHE:-10GB}" 2>&1 | tail -n 1)
echo "  BuildKit cache above ${OBSLAB_E2E_BUILD_CACHE:-10GB}: ${pruned:-nothing}"
