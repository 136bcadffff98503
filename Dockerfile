# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/reflex ./cmd/reflex

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/reflex /usr/local/bin/reflex
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/reflex"]
CMD ["serve"]
