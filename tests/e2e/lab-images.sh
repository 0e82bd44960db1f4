#!/usr/bin/env bash
# End-to-end proof of scripts/lab-images.sh on this machine's Docker engine,
# which has no registry: the lab's images are stood in for by copies of the
# local stand-ins (.ci/images.sh), tagged under obslab-test/ names and passed
# through compose.yaml's image variables. Official names are never tagged or
# removed; only the obslab-test/ tags made here are, on exit.
#   1. usage: --help exits 0, a missing or unknown command and a `save`
#      without FILE exit 2;
#   2. `list` gives exactly the images the variables name (the server's and
#      the inbox's are one);
#   3. `save` with an image missing exits 1 naming it and leaves no file;
#   4. `save --fast` writes one gzip archive of them all;
#   5. every obslab-test/ tag removed (docker rmi): the image built here for
#      the test (GRAFANA_IMAGE's stand-in) is gone from the engine;
#   6. `load` brings every tag back with the same image ID, that image
#      included; a missing or corrupt archive exits 1 naming it.
# Skips (exit 0) only when no Docker engine answers. About a minute once the
# stand-ins are built (the first run builds them, like containers.sh).
#
# Environment: OBSLAB_COMPOSE (the compose command), E2E_KEEP=1 (keep the
# work directory and its archive).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
script=$root/scripts/lab-images.sh

# shellcheck source=tests/e2e/lib.sh
source "$root/tests/e2e/lib.sh"

if ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
    echo "SKIPPED: no Docker engine answers (docker info failed): lab-images test not run"
    exit 0
fi
e2e_init lab-images

say "stand-in images (.ci/images.sh)"
images_out=$(bash "$root/.ci/images.sh" 2>"$work/images.log") || {
    cat "$work/images.log" >&2
    die "building the stand-in images failed"
}
eval "$images_out"

# The lab's images, as copies of the stand-ins under names of the test's own.
tag=lab-images-$$
declare -A stand_in=(
    [OBSLAB_SERVER_IMAGE]=$RUNTIME_IMAGE
    [OBSLAB_LOADGEN_IMAGE]=$RUNTIME_IMAGE
    [PROMETHEUS_IMAGE]=$PROMETHEUS_IMAGE
    [ALERTMANAGER_IMAGE]=$ALERTMANAGER_IMAGE
)
declare -A lab_names=(
    [OBSLAB_SERVER_IMAGE]=obslab-test/server:$tag
    [OBSLAB_LOADGEN_IMAGE]=obslab-test/loadgen:$tag
    [PROMETHEUS_IMAGE]=obslab-test/prometheus:$tag
    [ALERTMANAGER_IMAGE]=obslab-test/alertmanager:$tag
    [GRAFANA_IMAGE]=obslab-test/grafana:$tag
)
remove_test_tags() {
    local name
    for name in "${lab_names[@]}"; do
        docker image inspect "$name" >/dev/null 2>&1 && docker rmi "$name" >/dev/null
    done
    return 0
}
on_exit remove_test_tags

say "tagging copies of the stand-ins under obslab-test/*:$tag"
for var in "${!stand_in[@]}"; do
    docker tag "${stand_in[$var]}" "${lab_names[$var]}"
done
# GRAFANA_IMAGE's stand-in is an image of its own (a label no other image
# has): removing its only tag deletes it, so `load` must really restore it.
printf 'FROM %s\nLABEL org.obslab.test=%s\n' "$RUNTIME_IMAGE" "$tag-$RANDOM" |
    DOCKER_BUILDKIT=0 docker build -q -t "${lab_names[GRAFANA_IMAGE]}" - >"$work/build.log" 2>&1 ||
    { cat "$work/build.log" >&2; die "building the throwaway image failed"; }
for var in "${!lab_names[@]}"; do
    export "$var=${lab_names[$var]}"
done
declare -A ids=()
for name in "${lab_names[@]}"; do
    ids[$name]=$(docker image inspect -f '{{.Id}}' "$name")
    printf '  %-40s %s\n' "$name" "${ids[$name]:0:19}"
done

status_of() {
    set +e
    "$@" >"$work/out.txt" 2>&1
    local code=$?
    set -e
    echo "$code"
}

say "usage"
[[ $(status_of bash "$script" --help) == 0 ]] || die "--help does not exit 0"
grep -q 'save \[--fast\] FILE' "$work/out.txt" || die "--help does not tell about save [--fast] FILE"
for args in "" "frob" "save" "load" "save a b" "save --slow x" "save --fast" "list x"; do
    # shellcheck disable=SC2086
    code=$(status_of bash "$script" $args)
    ((code == 2)) || die "'lab-images.sh $args' exits $code, not 2 (usage)"
    echo "  lab-images.sh $args: exit 2, $(head -n 1 "$work/out.txt")"
done

say "list: the images compose.yaml names, overrides honoured"
bash "$script" list >"$work/list.txt"
printf '%s\n' "${lab_names[@]}" | sort -u >"$work/want.txt"
diff -u "$work/want.txt" "$work/list.txt" || die "list is not the images the variables name"
sed 's/^/  /' "$work/list.txt"

say "save with an image missing: exit 1 naming it, no archive"
code=$(GRAFANA_IMAGE=obslab-test/absent:$tag status_of bash "$script" save "$work/missing.tar.gz")
((code == 1)) || die "save with a missing image exits $code, not 1"
grep -q "obslab-test/absent:$tag" "$work/out.txt" || die "save does not name the missing image"
ls "$work"/missing.tar.gz* >/dev/null 2>&1 && die "save left a file behind"
echo "  $(head -n 2 "$work/out.txt" | tr '\n' ' ')"

say "save"
archive=$work/lab-images.tar.gz
started=$EPOCHREALTIME
bash "$script" save --fast "$archive"
gzip -t "$archive" || die "the archive is not valid gzip"
echo "  saved in $(elapsed_since "$started") s"

say "every obslab-test tag removed"
remove_test_tags
for name in "${lab_names[@]}"; do
    docker image inspect "$name" >/dev/null 2>&1 && die "$name is still there"
done
throwaway=${ids[${lab_names[GRAFANA_IMAGE]}]}
docker image inspect "$throwaway" >/dev/null 2>&1 && die "the throwaway image $throwaway outlived its tag"
echo "  gone, and so is the throwaway image ${throwaway:0:19}"

say "load: every image back with the same ID"
started=$EPOCHREALTIME
bash "$script" load "$archive"
echo "  loaded in $(elapsed_since "$started") s"
for name in "${lab_names[@]}"; do
    id=$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null) || die "$name did not come back"
    [[ $id == "${ids[$name]}" ]] || die "$name came back as $id, not ${ids[$name]}"
    printf '  %-40s %s\n' "$name" "${id:0:19}"
done

say "load of a missing or corrupt archive: exit 1 naming it"
code=$(status_of bash "$script" load "$work/nope.tar.gz")
((code == 1)) && grep -q "nope.tar.gz" "$work/out.txt" || die "a missing archive: exit $code, $(cat "$work/out.txt")"
head -c 1000 /dev/urandom >"$work/corrupt.tar.gz"
code=$(status_of bash "$script" load "$work/corrupt.tar.gz")
((code == 1)) && grep -q "corrupt.tar.gz" "$work/out.txt" || die "a corrupt archive: exit $code, $(cat "$work/out.txt")"
echo "  ok"

say "lab images: ok"
