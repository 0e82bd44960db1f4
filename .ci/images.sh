#!/usr/bin/env bash
# Builds the local stand-ins for the official base images that compose.yaml
# and the Dockerfile name, on a Docker engine that has no registry to pull
# from. Each is built from Debian's own packages, under a name of our own,
# never an official image's:
#
#   obslab-local/debian:bookworm      debootstrap --variant=minbase, imported
#   obslab-local/rust:<x.y>           that + gcc/libc6-dev + this machine's
#                                     Rust toolchain   (stands in for rust:<x.y>-slim-bookworm)
#   obslab-local/rust:<x.y>-vendored  that + `cargo vendor` of Cargo.lock as a
#                                     source replacement: containers here cannot
#                                     reach crates.io (TLS through the machine's
#                                     egress proxy), the host can
#   obslab-local/prometheus:debian    Debian's prometheus + busybox, laid out like
#                                     prom/prometheus (/bin/prometheus, config at
#                                     /etc/prometheus/prometheus.yml, data in
#                                     /prometheus, user nobody, wget for health)
#   obslab-local/alertmanager:debian  Debian's prometheus-alertmanager + busybox,
#                                     laid out like prom/alertmanager
#                                     (/bin/alertmanager and amtool, config at
#                                     /etc/alertmanager/alertmanager.yml, data
#                                     in /alertmanager, user nobody, wget for
#                                     health)
#   obslab-local/runtime:static       FROM scratch: CA bundle, passwd/group with
#                                     nonroot (65532), /tmp (stands in for
#                                     gcr.io/distroless/static-debian12:nonroot)
#
# Idempotent: an image whose recipe is unchanged (label org.obslab.recipe) is
# kept. Prints `export` lines for the variables compose.yaml reads, so that
#   eval "$(.ci/images.sh)"
# points a shell at the stand-ins. Logs go to stderr.
#
# Environment: OBSLAB_CI_CACHE (default .ci/cache: the debootstrap tarball and
# the vendored crates), DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${OBSLAB_CI_CACHE:-$root/.ci/cache}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

log() { printf '[images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Recipe hash: the text that defines an image (its Dockerfile plus any inputs
# named by the caller). An image is rebuilt only when this changes.
recipe_hash() { sha256sum | cut -c1-16; }

# up_to_date IMAGE HASH: the image exists and was built from this recipe.
up_to_date() {
    local have
    have=$(docker image inspect -f '{{ index .Config.Labels "org.obslab.recipe" }}' "$1" 2>/dev/null) || return 1
    [[ $have == "$2" ]]
}

# Classic builder on purpose: it reads FROM images from the local store only,
# works on every engine and needs no buildx. Quiet unless it fails.
build() {
    DOCKER_BUILDKIT=0 docker build "$@" >"$work/build.log" 2>&1 \
        || { tail -n 30 "$work/build.log" >&2; die "docker build $* failed"; }
}

mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- obslab-local/debian:bookworm ----------------------------------------------
debian_image=obslab-local/debian:$suite
debian_hash=$(printf 'minbase %s %s v1' "$suite" "$mirror" | recipe_hash)
if up_to_date "$debian_image" "$debian_hash"; then
    log "$debian_image: up to date"
else
    tarball=$cache/debian-$suite-minbase.tar
    if [[ ! -s $tarball ]]; then
        [[ $(id -u) == 0 ]] || die "debootstrap needs root"
        if ! command -v debootstrap >/dev/null; then
            log "installing debootstrap"
            apt-get install -y -qq debootstrap >/dev/null 2>&1 \
                || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; } \
                || die "debootstrap is missing and could not be installed"
        fi
        log "debootstrap --variant=minbase $suite (about a minute)"
        rootfs=$work/rootfs
        debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
            || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
        # What the official debian image trims: package lists, caches, logs.
        rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
            "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
        printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
            "$mirror" "$suite" "$mirror" "$suite" "$suite" >"$rootfs/etc/apt/sources.list"
        # No daemons start inside image builds.
        printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
        chmod 755 "$rootfs/usr/sbin/policy-rc.d"
        tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
    else
        log "reusing $tarball"
    fi
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --change "LABEL org.obslab.recipe=$debian_hash" \
        "$tarball" "$debian_image" >/dev/null
    log "$debian_image: imported"
fi

# --- obslab-local/runtime:static --------------------------------------------------
runtime_image=obslab-local/runtime:static
cat >"$work/runtime.Dockerfile" <<EOF
FROM $debian_image AS rootfs
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null \\
 && mkdir -p /out/etc/ssl/certs /out/tmp /out/home/nonroot \\
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \\
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/out/etc/passwd \\
 && printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >/out/etc/group \\
 && printf 'hosts: files dns\n' >/out/etc/nsswitch.conf \\
 && chmod 1777 /out/tmp && chown 65532:65532 /out/home/nonroot
FROM scratch
COPY --from=rootfs /out/ /
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
EOF
runtime_hash=$( (cat "$work/runtime.Dockerfile"; echo "$debian_hash") | recipe_hash)
if up_to_date "$runtime_image" "$runtime_hash"; then
    log "$runtime_image: up to date"
else
    log "$runtime_image: building"
    build -t "$runtime_image" --label "org.obslab.recipe=$runtime_hash" -f "$work/runtime.Dockerfile" "$work"
fi

# --- obslab-local/prometheus:debian ---------------------------------------------
prometheus_image=obslab-local/prometheus:debian
cat >"$work/prometheus.Dockerfile" <<EOF
FROM $debian_image
RUN apt-get update -qq \\
 && apt-get install -y -qq --no-install-recommends prometheus busybox ca-certificates >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && ln -s /bin/busybox /usr/local/bin/wget \\
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus \\
 && /bin/prometheus --version
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
EOF
prometheus_hash=$( (cat "$work/prometheus.Dockerfile"; echo "$debian_hash") | recipe_hash)
if up_to_date "$prometheus_image" "$prometheus_hash"; then
    log "$prometheus_image: up to date"
else
    log "$prometheus_image: building"
    build -t "$prometheus_image" --label "org.obslab.recipe=$prometheus_hash" -f "$work/prometheus.Dockerfile" "$work"
fi

# --- obslab-local/alertmanager:debian -------------------------------------------
alertmanager_image=obslab-local/alertmanager:debian
cat >"$work/alertmanager.Dockerfile" <<EOF
FROM $debian_image
RUN apt-get update -qq \\
 && apt-get install -y -qq --no-install-recommends prometheus-alertmanager busybox ca-certificates >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && ln -s /usr/bin/prometheus-alertmanager /bin/alertmanager \\
 && ln -s /bin/busybox /usr/local/bin/wget \\
 && mkdir -p /alertmanager /etc/alertmanager && chown nobody:nogroup /alertmanager \\
 && /bin/alertmanager --version
USER nobody
EXPOSE 9093
VOLUME ["/alertmanager"]
WORKDIR /alertmanager
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
EOF
alertmanager_hash=$( (cat "$work/alertmanager.Dockerfile"; echo "$debian_hash") | recipe_hash)
if up_to_date "$alertmanager_image" "$alertmanager_hash"; then
    log "$alertmanager_image: up to date"
else
    log "$alertmanager_image: building"
    build -t "$alertmanager_image" --label "org.obslab.recipe=$alertmanager_hash" -f "$work/alertmanager.Dockerfile" "$work"
fi

# --- obslab-local/rust:<x.y> -----------------------------------------------------
command -v rustc >/dev/null || die "rustc is missing: the Rust image is made from this machine's toolchain"
sysroot=$(rustc --print sysroot)
rust_version=$(rustc -vV | sed -n 's/^release: //p')
rust_host=$(rustc -vV | sed -n 's/^host: //p')
rust_minor=${rust_version%.*}
toolchain=$(basename "$sysroot")
rust_image=obslab-local/rust:$rust_minor
cat >"$work/Dockerfile" <<EOF
FROM $debian_image
RUN apt-get update -qq \\
 && apt-get install -y -qq --no-install-recommends ca-certificates gcc libc6-dev >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup \\
    CARGO_HOME=/usr/local/cargo \\
    PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    RUST_VERSION=$rust_version
COPY $toolchain/ /usr/local/rustup/toolchains/$rust_version-$rust_host/
RUN mkdir -p /usr/local/cargo/bin \\
 && for b in cargo rustc rustdoc; do ln -s /usr/local/rustup/toolchains/$rust_version-$rust_host/bin/\$b /usr/local/cargo/bin/\$b; done \\
 && chmod -R a+w /usr/local/cargo \\
 && cargo --version && rustc --version
EOF
rust_hash=$( (cat "$work/Dockerfile"; echo "$debian_hash"; rustc -vV) | recipe_hash)
if up_to_date "$rust_image" "$rust_hash"; then
    log "$rust_image: up to date"
else
    log "$rust_image: building from $sysroot (docs left out)"
    # The context is streamed as a tar: the Dockerfile plus the toolchain,
    # without its 800 MB of HTML docs; nothing is copied on disk.
    tar -c -C "$work" Dockerfile -C "$(dirname "$sysroot")" \
        --exclude="$toolchain/share/doc" "$toolchain" \
        | build -t "$rust_image" --label "org.obslab.recipe=$rust_hash" -
fi

# --- obslab-local/rust:<x.y>-vendored ----------------------------------------------
# Rebuilt whenever Cargo.lock changes; the layer cache makes an unchanged
# vendor directory cost only the context upload.
vendored_image=$rust_image-vendored
vendor_ctx=$cache/rust-vendored
lock_hash=$(recipe_hash <"$root/Cargo.lock")
if [[ ! -f $vendor_ctx/lock.sha || $(cat "$vendor_ctx/lock.sha") != "$lock_hash" ]]; then
    log "cargo vendor (Cargo.lock changed)"
    rm -rf "$vendor_ctx"
    mkdir -p "$vendor_ctx"
    (cd "$root" && cargo vendor --locked --quiet "$vendor_ctx/vendor" >/dev/null) \
        || die "cargo vendor failed (is Cargo.lock up to date with the manifests?)"
    echo "$lock_hash" >"$vendor_ctx/lock.sha"
fi
cat >"$vendor_ctx/config.toml" <<'EOF'
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "/usr/local/cargo/vendor"
EOF
cat >"$vendor_ctx/Dockerfile" <<EOF
FROM $rust_image
COPY vendor/ /usr/local/cargo/vendor/
COPY config.toml /usr/local/cargo/config.toml
EOF
vendored_hash=$( (cat "$vendor_ctx/Dockerfile"; echo "$rust_hash $lock_hash") | recipe_hash)
if up_to_date "$vendored_image" "$vendored_hash"; then
    log "$vendored_image: up to date"
else
    log "$vendored_image: building"
    build -t "$vendored_image" --label "org.obslab.recipe=$vendored_hash" "$vendor_ctx"
fi

cat <<EOF
export RUST_IMAGE=$vendored_image
export RUNTIME_IMAGE=$runtime_image
export PROMETHEUS_IMAGE=$prometheus_image
export ALERTMANAGER_IMAGE=$alertmanager_image
export OBSLAB_DEBIAN_IMAGE=$debian_image
EOF
