# syntax=docker/dockerfile:1
#
# gridbot as a container: a static binary on distroless, run as a non-root
# user (uid 65532). Build from the repository root:
#
#   docker build -t gridbot .
#   docker run -p 8080:8080 -v gridbot-data:/var/lib/gridbot \
#     -e GRIDBOT_WECHAT_APP_ID=wx… -e GRIDBOT_WECHAT_APP_SECRET=… -e GRIDBOT_WECHAT_TOKEN=… gridbot
#
# Configuration: /etc/gridbot/gridbot.yaml is deploy/gridbot.example.yaml; every
# key can be overridden with GRIDBOT_ + the key in capitals, _ for . (see the
# README). Set at least:
#   GRIDBOT_WECHAT_APP_ID, GRIDBOT_WECHAT_APP_SECRET, GRIDBOT_WECHAT_TOKEN
#   GRIDBOT_WECHAT_AES_KEY             for safe mode (recommended)
#   GRIDBOT_CONSOLE_ALLOWED_ORIGINS    the public origin, e.g. https://grid.example.org
# and for the scaled-out setup (deploy/compose.yaml):
#   GRIDBOT_STORE_KIND=valkey, GRIDBOT_VALKEY_ADDR=host:port[,host:port…], GRIDBOT_VALKEY_PASSWORD
# Set here: GRIDBOT_HTTP_ADDR=:8080 (the file says 127.0.0.1:8080, right for
# systemd behind a local proxy, unreachable from outside a container).
#
# The town directory and category list baked in at /etc/gridbot/ are the
# SAMPLE town. Mount the real ones as a directory (edits are picked up
# without a restart; a single-file bind mount misses editors' rename-on-save):
#   -v /srv/gridbot/town:/etc/gridbot/town:ro
#   -e GRIDBOT_TOWN_DIRECTORY=/etc/gridbot/town/town.yaml
#   -e GRIDBOT_TOWN_CATEGORIES=/etc/gridbot/town/categories.yaml
#
# The embedded store's file is /var/lib/gridbot/gridbot.db: keep it on a volume.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-mod=readonly
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /gridbot ./cmd/gridbot
# distroless has no shell: make the data directory, owned by nonroot, here.
RUN mkdir -p /rootfs/var/lib/gridbot && chown 65532:65532 /rootfs/var/lib/gridbot && chmod 0700 /rootfs/var/lib/gridbot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /gridbot /gridbot
COPY configs/town.yaml configs/categories.yaml /etc/gridbot/
COPY deploy/gridbot.example.yaml /etc/gridbot/gridbot.yaml
COPY --from=build --chown=65532:65532 /rootfs/var/lib/gridbot /var/lib/gridbot
ENV GRIDBOT_HTTP_ADDR=:8080
USER 65532:65532
WORKDIR /var/lib/gridbot
VOLUME ["/var/lib/gridbot"]
EXPOSE 8080
ENTRYPOINT ["/gridbot", "serve", "-config", "/etc/gridbot/gridbot.yaml"]
