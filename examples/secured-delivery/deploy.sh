#!/bin/sh
# The example's deploy action: it records the image it was asked to
# deploy. A real one would pull and roll it out.
set -eu
image="$1"
version="$2"
echo "deploying $image ($version) to $REFLEX_SERVICE in $REFLEX_ZONE"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $REFLEX_SERVICE $version $image" >> "$RELEASES"
echo "done"
