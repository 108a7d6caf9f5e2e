// A small but real OpenID provider for Atrium's end-to-end tests. It is its
// own module so that the main go.mod does not carry it; the tests build it.
module github.com/atrium-sso/atrium/internal/e2e/testdata/oidc-op

go 1.26.8

require github.com/go-jose/go-jose/v4 v4.1.9
