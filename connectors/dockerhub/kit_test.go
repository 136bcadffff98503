package dockerhub_test

import (
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/dockerhub"
)

// testSecret is the token that ends the source's webhook URL.
var testSecret = []byte("dh-6f1c0e9a4b7d42e8a3c5f0b1d2e3f4a5")

// kit is the connector under test with its fixtures, posted to
// /hooks/{source}/{token}: the kit puts the secret in PathToken, as the
// intake does.
var kit = connectortest.Kit{Name: dockerhub.Name, New: dockerhub.New, Source: "acme-dockerhub", Secret: testSecret, PathToken: true}
