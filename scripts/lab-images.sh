#!/usr/bin/env bash
# Every image the obslab lab needs, in one archive: for a classroom whose
# network cannot pull them on every machine.
#
#   scripts/lab-images.sh save [--fast] FILE
#                                     on the teacher's machine, images pulled
#                                     (docker compose pull) or built (docker
#                                     compose build); --fast compresses about
#                                     twice as fast (gzip -1), a little larger
#   scripts/lab-images.sh load FILE   on each student's machine
#   scripts/lab-images.sh list        the images, one a line
#
# The images are those compose.yaml names (server, loadgen, inbox,
# prometheus, alertmanager, grafana; not the optional services of the
# profile instrumentation), as `docker compose config` resolves
# them: the image-name overrides (OBSLAB_SERVER_IMAGE, PROMETHEUS_IMAGE,
# GRAFANA_IMAGE...) from the environment or an .env file beside compose.yaml
# count, exactly as for `docker compose up`. `save` writes them with `docker
# save` through gzip (layers shared by several images are stored once);
# `load` is `docker load`, then checks that every image compose.yaml names is
# there. Students then start the lab with `docker compose up` (no --build:
# the images are there).
#
# Exit status: 0 done, 1 failed (a missing image or file is named), 2 usage.
# Environment: OBSLAB_COMPOSE, the compose command (default: `docker
# compose` if present, else `docker-compose`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
me=scripts/lab-images.sh

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}
die() { printf '%s: %s\n' "$me" "$*" >&2; exit 1; }
usage_error() {
    printf '%s: %s\nUsage: %s save [--fast] FILE | load FILE | list   (--help for more)\n' \
        "$me" "$1" "$me" >&2
    exit 2
}

compose_cmd() {
    if [[ -n ${OBSLAB_COMPOSE:-} ]]; then
        read -ra compose <<<"$OBSLAB_COMPOSE"
    elif docker compose version >/dev/null 2>&1; then
        compose=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        compose=(docker-compose)
    else
        return 1
    fi
}

# The images of compose.yaml as compose resolves them, one a line, sorted.
lab_images() {
    compose_cmd || die "neither \`docker compose\` nor docker-compose is installed: it reads compose.yaml"
    local config
    config=$(cd "$root" && "${compose[@]}" -f compose.yaml config 2>/dev/null) ||
        die "\`${compose[*]} config\` failed on $root/compose.yaml"
    # Services under a profile (séance 9 of the TP) are left out: compose v1
    # prints them, v2 does not, and they install from PyPI anyway.
    awk '
        function flush() { if (img != "" && !prof) print img; img = ""; prof = 0 }
        /^services:/ { in_services = 1; next }
        /^[^ ]/ { flush(); in_services = 0 }
        in_services && /^  [^ ]/ { flush() }
        in_services && $1 == "image:" { gsub(/["'\'']/, "", $2); img = $2 }
        in_services && $1 == "profiles:" { prof = 1 }
        END { flush() }' <<<"$config" | sort -u
}

need_docker() {
    command -v docker >/dev/null || die "docker is not installed"
    docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
}

human() { awk -v b="$1" 'BEGIN { split("B KB MB GB", u); for (i = 1; b >= 1000 && i < 4; i++) b /= 1000; printf "%.1f %s", b, u[i] }'; }

cmd_list() {
    lab_images
}

cmd_save() {
    local level=$1 file=$2 images=() missing=() image list
    need_docker
    list=$(lab_images) || exit 1
    mapfile -t images <<<"$list"
    [[ -n $list ]] || die "compose.yaml names no image"
    for image in "${images[@]}"; do
        docker image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
    done
    if ((${#missing[@]})); then
        {
            echo "$me: ${#missing[@]} image(s) the lab needs are not on this machine:"
            for image in "${missing[@]}"; do
                echo "  $image"
            done
            echo "Build the lab's own (docker compose build) and pull the others (docker compose pull) first."
        } >&2
        exit 1
    fi
    [[ -d $(dirname -- "$file") ]] || die "no folder $(dirname -- "$file") for $file"
    echo "saving ${#images[@]} images into $file:"
    for image in "${images[@]}"; do
        printf '  %-45s %s\n' "$image" "$(docker image inspect -f '{{.Id}}' "$image" | cut -c1-19)"
    done
    # A partial file never takes the archive's name.
    local partial=$file.partial.$$
    trap 'rm -f -- "$partial"' EXIT
    docker save "${images[@]}" | gzip "$level" >"$partial" || die "docker save failed"
    mv -- "$partial" "$file"
    trap - EXIT
    echo "ok: $file, $(human "$(wc -c <"$file")"); on each machine: $me load $file"
}

cmd_load() {
    local file=$1 images=() missing=() image list
    [[ -f $file && -r $file ]] || die "no archive $file (or not readable)"
    need_docker
    docker load -i "$file" || die "docker load could not read $file"
    if ! compose_cmd; then
        echo "ok: loaded (no compose here to check the images against compose.yaml)"
        return
    fi
    list=$(lab_images) || exit 1
    mapfile -t images <<<"$list"
    for image in "${images[@]}"; do
        docker image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
    done
    if ((${#missing[@]})); then
        die "loaded, but compose.yaml still names images this machine lacks: ${missing[*]} (an archive saved with other image names?)"
    fi
    echo "ok: all ${#images[@]} images of compose.yaml are here; start the lab with: docker compose up"
}

case ${1:-} in
    -h | --help | help)
        usage
        ;;
    save)
        level=-6
        if [[ ${2:-} == --fast ]]; then
            level=-1
            set -- "$1" "${@:3}"
        fi
        (($# == 2)) || usage_error "save takes one FILE"
        [[ $2 != -* ]] || usage_error "save takes a FILE, not the option $2"
        cmd_save "$level" "$2"
        ;;
    load)
        (($# == 2)) || usage_error "load takes one FILE"
        [[ $2 != -* ]] || usage_error "load takes a FILE, not the option $2"
        cmd_load "$2"
        ;;
    list)
        (($# == 1)) || usage_error "list takes no argument"
        cmd_list
        ;;
    "")
        usage_error "what to do? save, load or list"
        ;;
    *)
        usage_error "unknown command '$1'"
        ;;
esac
