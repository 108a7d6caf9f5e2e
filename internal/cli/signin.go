package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// setPassword sets a user's password from stdin, or with --generate has the
// server make a one-time password and prints it. The password goes only in
// the signed request body; the server hides it in its audit record.
func setPassword(ctx context.Context, c *command) error {
	id, err := c.userID(ctx, c.args[0])
	if err != nil {
		return err
	}
	if c.optSet("generate") {
		var out struct{ OneTimePassword string }
		if err := c.adminOut(ctx, "ResetUserPassword", map[string]string{"IdentityStoreId": c.storeID, "UserId": id}, &out); err != nil {
			return err
		}
		return c.printOne(map[string]string{"UserName": c.args[0], "OneTimePassword": out.OneTimePassword, "MustChangePassword": "true"},
			[]string{"UserName", "OneTimePassword", "MustChangePassword"})
	}
	password, err := readPassword(c.env.Stdin)
	if err != nil {
		return err
	}
	temporary := c.optSet("temporary")
	in := map[string]any{"IdentityStoreId": c.storeID, "UserId": id, "Password": password, "Temporary": temporary}
	if err := c.admin(ctx, "SetUserPassword", in); err != nil {
		return err
	}
	return c.printOne(map[string]string{"UserName": c.args[0], "MustChangePassword": strconv.FormatBool(temporary)},
		[]string{"UserName", "MustChangePassword"})
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	if r == nil {
		return "", errors.New("no password on stdin (or use --generate)")
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on stdin (or use --generate)")
	}
	return line, nil
}

type settingOut struct {
	Key, Value string
	Default    bool
}

// getSettings lists the settings, or prints one setting's value.
func getSettings(ctx context.Context, c *command) error {
	in := map[string]string{}
	if len(c.args) == 1 {
		in["Key"] = c.args[0]
	}
	var out struct{ Settings []settingOut }
	if err := c.adminOut(ctx, "GetSettings", in, &out); err != nil {
		return err
	}
	if len(c.args) == 1 && *c.output == "table" && len(out.Settings) == 1 {
		_, err := fmt.Fprintln(c.env.Stdout, out.Settings[0].Value)
		return err
	}
	rows := make([][]string, len(out.Settings))
	for i, s := range out.Settings {
		rows[i] = []string{s.Key, s.Value, strconv.FormatBool(s.Default)}
	}
	return c.print([]string{"Key", "Value", "Default"}, rows)
}

func setSetting(ctx context.Context, c *command) error {
	var out struct{ Setting settingOut }
	if err := c.adminOut(ctx, "UpdateSetting", map[string]string{"Key": c.args[0], "Value": c.args[1]}, &out); err != nil {
		return err
	}
	return c.printOne(map[string]string{"Key": out.Setting.Key, "Value": out.Setting.Value}, []string{"Key", "Value"})
}
