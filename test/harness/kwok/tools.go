//go:build tools

// Keeps the upstream kwok command in this module's dependency graph, so
// `go build sigs.k8s.io/kwok/cmd/kwok` builds it at the pinned version.
package main

import _ "sigs.k8s.io/kwok/cmd/kwok"
