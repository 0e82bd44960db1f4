# obslab images, one target per service:
#
#   docker build --target server  -t obslab-server:dev  .   (obslab-server and obslab)
#   docker build --target loadgen -t obslab-loadgen:dev .
#
# (compose.yaml builds both; .github/workflows/release.yml builds both for
# linux/amd64 and linux/arm64 and publishes them.) Written for the legacy builder and BuildKit
# alike: no `# syntax=` line (no frontend image to pull) and no RUN --mount.
#
# The binaries are linked statically against glibc (crt-static), so the
# runtime base needs no libc at all: CA certificates (for loadgen's https
# targets) and a nonroot user are all it provides. distroless/static is about
# 2 MB, which keeps each image near the size of its binary. Name resolution
# still works (glibc >= 2.34 has its `files` and `dns` NSS modules built in),
# compose service names included.
#
# Base images are build arguments so that a machine without a registry can
# pass locally built stand-ins (tests/e2e/containers.sh, .ci/images.sh).
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

# --- skeleton: the workspace with every crate root replaced by a stub ----------
# Its output changes only when a manifest, the lockfile or a build script
# changes, so the dependency layer of `builder` survives source edits.
FROM ${RUST_IMAGE} AS skeleton
WORKDIR /src
COPY . .
RUN set -eu; \
    mkdir /skeleton; \
    find . \( -name Cargo.toml -o -name Cargo.lock -o -name build.rs \) -exec cp --parents -t /skeleton {} +; \
    for f in $(find . -path '*/src/main.rs' -o -path '*/src/bin/*.rs'); do \
        mkdir -p "/skeleton/${f%/*}"; echo 'fn main() {}' >"/skeleton/$f"; \
    done; \
    for f in $(find . -path '*/src/lib.rs'); do \
        mkdir -p "/skeleton/${f%/*}"; : >"/skeleton/$f"; \
    done

# --- builder: dependencies first (cached), then the workspace -------------------
FROM ${RUST_IMAGE} AS builder
# Cargo features of the load generator, comma-separated, instead of its
# defaults: `tls` lets it drive https:// targets; empty leaves TLS out.
ARG LOADGEN_FEATURES=tls
# Static glibc for the target only: --target keeps build scripts and
# proc-macros (which must stay dynamic) out of RUSTFLAGS' reach.
ENV RUSTFLAGS="-C target-feature=+crt-static" \
    CARGO_TERM_COLOR=never
WORKDIR /src
COPY --from=skeleton /skeleton/ ./
RUN set -eu; \
    target="$(rustc -vV | sed -n 's/^host: //p')"; \
    features="$(echo "$LOADGEN_FEATURES" | sed 's/[^,][^,]*/obslab-loadgen\/&/g')"; \
    cargo build --release --locked --target "$target" \
        -p obslab-server -p obslab-loadgen -p obslab-lab --bins --no-default-features --features "$features"
COPY . .
# COPY keeps the context's mtimes, which may predate the stub build: touch the
# sources so cargo cannot take the stubs for up to date. The --version check
# proves the real binaries were built (a stub prints nothing).
RUN set -eu; \
    target="$(rustc -vV | sed -n 's/^host: //p')"; \
    features="$(echo "$LOADGEN_FEATURES" | sed 's/[^,][^,]*/obslab-loadgen\/&/g')"; \
    find . -path ./target -prune -o -name '*.rs' -exec touch {} +; \
    cargo build --release --locked --target "$target" \
        -p obslab-server -p obslab-loadgen -p obslab-lab --bins --no-default-features --features "$features"; \
    mkdir -p /out/inbox; \
    for bin in obslab-server obslab-loadgen obslab; do \
        cp "target/$target/release/$bin" /out/; \
        "/out/$bin" --version | grep -q "^$bin "; \
    done

# --- loadgen ------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS loadgen
ARG RUNTIME_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="obslab-loadgen" \
      org.opencontainers.image.description="Weighted, open-model, honest HTTP load generator" \
      org.opencontainers.image.source="https://github.com/obslab/obslab" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
COPY --from=builder /out/obslab-loadgen /usr/local/bin/obslab-loadgen
USER 65532:65532
# No HEALTHCHECK: by default this is a run-to-completion CLI. compose.yaml
# gives the long-running service one that probes its --metrics-listen port.
ENTRYPOINT ["/usr/local/bin/obslab-loadgen"]
CMD ["--help"]

# --- server (the default target) -----------------------------------------------------
FROM ${RUNTIME_IMAGE} AS server
ARG RUNTIME_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="obslab-server" \
      org.opencontainers.image.description="An instrumented, fault-injecting demo web app exporting Prometheus metrics" \
      org.opencontainers.image.source="https://github.com/obslab/obslab" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${RUNTIME_IMAGE}"
COPY --from=builder /out/obslab-server /out/obslab /usr/local/bin/
# `obslab inbox` (compose service inbox) keeps its --data file here: a named
# volume mounted on it starts owned by nonroot.
COPY --from=builder --chown=65532:65532 /out/inbox /var/lib/obslab
USER 65532:65532
ENV OBSLAB_LISTEN=0.0.0.0:5000
# 5000 obslab-server; 9095 `obslab inbox`, which reads OBSLAB_INBOX_LISTEN,
# never OBSLAB_LISTEN.
EXPOSE 5000 9095
# `healthcheck` GETs /livez on the port of OBSLAB_LISTEN: no shell or curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/obslab-server", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/obslab-server"]
