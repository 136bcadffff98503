package quay_test

import (
	"github.com/reflexops/reflex/connectors/connectortest"
	"github.com/reflexops/reflex/connectors/quay"
)

// testSecret is the token that ends the source's webhook URL.
var testSecret = []byte("qy-0b9e8d7c6f5a4b3c2d1e0f9a8b7c6d5e")

// kit is the connector under test with its fixtures, posted to
// /hooks/{source}/{token}: the kit puts the secret in PathToken, as the
// intake does.
var kit = connectortest.Kit{Name: quay.Name, New: quay.New, Source: "acme-quay", Secret: testSecret, PathToken: true}
