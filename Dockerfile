# Hookflow in a container: one static binary on distroless, running as a non-root user.
#
#   docker build -t hookflow:local .
#   docker run -p 8080:8080 -v hookflow-data:/data hookflow:local            # serve, SQLite in /data
#   docker run hookflow:local worker                                        # needs HOOKFLOW_DATABASE_URL
#
# There is no shell or curl in the image, so no HEALTHCHECK: have the orchestrator probe
# GET /readyz (and /healthz) over HTTP. docs/scaling.md covers running several processes.

# The build stage runs on the builder's own platform and cross-compiles (no cgo).
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src

# Modules first, so this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/hookflow ./cmd/hookflow

# The data directory, copied into the final image owned by the non-root user, so a fresh
# named volume mounted on /data starts out writable by it.
RUN install -d -m 0700 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookflow /hookflow
COPY --from=build --chown=65532:65532 /out/data /data
# 65532 is distroless's "nonroot" user.
USER 65532:65532
ENV HOOKFLOW_DATA_DIR=/data \
    HOOKFLOW_ADDR=:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/hookflow"]
CMD ["serve"]
