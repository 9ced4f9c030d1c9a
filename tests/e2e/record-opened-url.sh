#!/bin/sh
# The "system browser" of the SSO end-to-end test: xdg-open hands it the URL the
# app opens ($BROWSER), and it only writes the URL down for the test, which then
# plays the browser's part at the identity provider.
printf '%s\n' "$1" >> "$KAITO_E2E_OPENED_URLS"
