package cli

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

type sessionOut struct {
	SessionId, UserId, UserName, SourceIp, UserAgent string
	Methods                                          []string
	CreatedAt, ExpiresAt                             float64 // epoch seconds
}

func epoch(s float64) string {
	return time.UnixMilli(int64(s * 1000)).UTC().Format(time.RFC3339)
}

// listSessions lists live sign-in sessions, of one user with --user.
func listSessions(ctx context.Context, c *command) error {
	in := map[string]any{"IdentityStoreId": c.storeID}
	if name := c.opt("user"); name != "" {
		id, err := c.userID(ctx, name)
		if err != nil {
			return err
		}
		in["UserId"] = id
	}
	var rows [][]string
	for {
		var out struct {
			Sessions  []sessionOut
			NextToken string
		}
		if err := c.adminOut(ctx, "ListSessions", in, &out); err != nil {
			return err
		}
		for _, s := range out.Sessions {
			rows = append(rows, []string{s.SessionId, s.UserName, epoch(s.CreatedAt), epoch(s.ExpiresAt), s.SourceIp, strings.Join(s.Methods, ",")})
		}
		if out.NextToken == "" {
			break
		}
		in["NextToken"] = out.NextToken
	}
	return c.print([]string{"SessionId", "User", "SignedIn", "Expires", "Source", "Methods"}, rows)
}

// revokeSessions ends one session by id, or every session of --user: the
// tokens and role credentials issued from them stop working at once.
func revokeSessions(ctx context.Context, c *command) error {
	name := c.opt("user")
	if (len(c.args) == 1) == (name != "") {
		return errors.New("give a session id or --user NAME, not both")
	}
	if name == "" {
		if err := c.admin(ctx, "RevokeSession", map[string]string{"IdentityStoreId": c.storeID, "SessionId": c.args[0]}); err != nil {
			return err
		}
		return c.printOne(map[string]string{"SessionId": c.args[0], "Revoked": "true"}, []string{"SessionId", "Revoked"})
	}
	id, err := c.userID(ctx, name)
	if err != nil {
		return err
	}
	var out struct{ RevokedCount int }
	if err := c.adminOut(ctx, "RevokeUserSessions", map[string]string{"IdentityStoreId": c.storeID, "UserId": id}, &out); err != nil {
		return err
	}
	return c.printOne(map[string]string{"UserName": name, "Revoked": strconv.Itoa(out.RevokedCount)}, []string{"UserName", "Revoked"})
}
