# Build the manager with the Go toolchain, run it on a distroless static base as non-root.
# Tag, not digest, for both bases: no registry is reachable from where this is built and no
# manifest readable here pins them, so a digest would be invented; pin them in the image
# pipeline (Konflux resolves and records base digests at build time).
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY *.go ./
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/
COPY config/crd/ config/crd/
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} go build -trimpath -ldflags="-s -w" -o manager .

# Tag, not digest, as for the builder above.
FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/manager .
USER 65532:65532
ENTRYPOINT ["/manager"]
