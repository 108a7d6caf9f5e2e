package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

type scimTokenOut struct {
	TokenId, Source, Status         string
	CreatedAt, ExpiresAt, RevokedAt float64 // epoch seconds
}

// parseLifetime reads --expires-in: a Go duration (720h) or whole days (90d).
func parseLifetime(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--expires-in %q: want a duration such as 90d or 720h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires-in %q: want a duration such as 90d or 720h", s)
	}
	return d, nil
}

// createScimToken makes a SCIM bearer token; the token alone is the last
// line of the output, so scripts can take it with tail -n 1.
func createScimToken(ctx context.Context, c *command) error {
	in := map[string]any{"IdentityStoreId": c.storeID}
	if src := c.opt("source"); src != "" {
		in["Source"] = src
	}
	if e := c.opt("expires-in"); e != "" {
		d, err := parseLifetime(e)
		if err != nil {
			return err
		}
		in["ExpiresInSeconds"] = int64(d / time.Second)
	}
	var out struct {
		Token     string
		ScimToken scimTokenOut
		Endpoint  string
	}
	if err := c.adminOut(ctx, "CreateScimToken", in, &out); err != nil {
		return err
	}
	if *c.output == "json" {
		return c.printOne(map[string]string{"TokenId": out.ScimToken.TokenId, "Endpoint": out.Endpoint, "ExpiresAt": epoch(out.ScimToken.ExpiresAt),
			"Source": sourceName(out.ScimToken.Source), "Token": out.Token}, nil)
	}
	fmt.Fprintf(c.env.Stdout, "SCIM endpoint: %s\nToken id:      %s\nSource:        %s\nExpires:       %s\n",
		out.Endpoint, out.ScimToken.TokenId, sourceName(out.ScimToken.Source), epoch(out.ScimToken.ExpiresAt))
	fmt.Fprintln(c.env.Stdout, "The token is shown once; give it to the identity provider as its bearer token:")
	fmt.Fprintln(c.env.Stdout, out.Token)
	return nil
}

func sourceName(s string) string {
	if s == "" {
		return "(built-in directory)"
	}
	return s
}

func listScimTokens(ctx context.Context, c *command) error {
	var out struct {
		ScimTokens []scimTokenOut
		Endpoint   string
	}
	if err := c.adminOut(ctx, "ListScimTokens", map[string]string{"IdentityStoreId": c.storeID}, &out); err != nil {
		return err
	}
	rows := make([][]string, len(out.ScimTokens))
	for i, t := range out.ScimTokens {
		revoked := ""
		if t.RevokedAt != 0 {
			revoked = epoch(t.RevokedAt)
		}
		rows[i] = []string{t.TokenId, t.Status, sourceName(t.Source), epoch(t.CreatedAt), epoch(t.ExpiresAt), revoked}
	}
	return c.print([]string{"TokenId", "Status", "Source", "Created", "Expires", "Revoked"}, rows)
}

func revokeScimToken(ctx context.Context, c *command) error {
	if err := c.admin(ctx, "RevokeScimToken", map[string]string{"IdentityStoreId": c.storeID, "TokenId": c.args[0]}); err != nil {
		return err
	}
	return c.printOne(map[string]string{"TokenId": c.args[0], "Revoked": "true"}, []string{"TokenId", "Revoked"})
}
