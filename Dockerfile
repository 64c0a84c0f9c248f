# portcullis as a container image, for GitLab CI, Kubernetes Jobs and Argo
# Workflows: a static (musl) binary with the built-in plugins precompiled
# into it, git for `--changed-since` and the hooks, run as a non-root user.
#
#   docker build -t portcullis .
#   docker run --rm -v "$PWD:/repo:ro" portcullis check /repo
#
# The image holds no Rust toolchain: the deps plugin's `cargo metadata` needs
# one, so for a Rust repository's dependency checks run the binary where
# cargo is (copy it: `COPY --from=portcullis /usr/local/bin/portcullis …`).
# The build uses the toolchain rust-toolchain.toml pins; nothing else is
# downloaded but the crates Cargo.lock names.

ARG RUST_IMAGE=rust:1.95.0-alpine3.22
ARG RUNTIME_IMAGE=alpine:3.22

FROM ${RUST_IMAGE} AS build
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY rust-toolchain.toml ./
# The pinned toolchain with the wasm32-wasip2 target the plugins build for.
RUN rustup toolchain install && rustc --version
COPY . .
RUN cargo build --release --locked -p portcullis \
 && mkdir /out \
 && target/release/portcullis precompile --output /out/portcullis \
 && /out/portcullis --version
# Static: the runtime image needs no C library from the build.
RUN if ldd /out/portcullis 2>&1 | grep -q '=>'; then \
      echo "portcullis is not statically linked" >&2; exit 1; \
    fi

FROM ${RUNTIME_IMAGE}
# git: `--changed-since`, `hook pre-push`, `--staged`. The checkout a CI
# runner mounts belongs to another user; git's ownership check is relaxed
# for it, and every git setting that would run a program of the repository
# is overridden on the gate's own command lines (see SECURITY.md).
# hadolint ignore=DL3018
RUN apk add --no-cache git \
 && git config --system --add safe.directory '*' \
 && adduser -D -H -u 10001 -h /home/portcullis portcullis \
 && mkdir -p /home/portcullis/.cache \
 && chown -R 10001:10001 /home/portcullis
COPY --from=build /out/portcullis /usr/local/bin/portcullis
USER 10001:10001
ENV HOME=/home/portcullis
WORKDIR /repo
ENTRYPOINT ["portcullis"]
CMD ["check", "."]
