package cli

import (
	"context"
	"errors"
	"strconv"
)

type mfaDeviceOut struct {
	DeviceId, Type, Name  string
	CreatedAt, LastUsedAt float64 // epoch seconds; LastUsedAt 0 until used
}

// listMFADevices lists a user's MFA devices.
func listMFADevices(ctx context.Context, c *command) error {
	id, err := c.userID(ctx, c.args[0])
	if err != nil {
		return err
	}
	var out struct{ MfaDevices []mfaDeviceOut }
	if err := c.adminOut(ctx, "ListMfaDevices", map[string]string{"IdentityStoreId": c.storeID, "UserId": id}, &out); err != nil {
		return err
	}
	rows := make([][]string, len(out.MfaDevices))
	for i, d := range out.MfaDevices {
		used := "never"
		if d.LastUsedAt != 0 {
			used = epoch(d.LastUsedAt)
		}
		rows[i] = []string{d.DeviceId, d.Type, d.Name, epoch(d.CreatedAt), used}
	}
	return c.print([]string{"DeviceId", "Type", "Name", "Added", "LastUsed"}, rows)
}

// deleteMFADevices removes one device of a user, or all of them with
// --all (a person who lost every device registers a new one at sign-in).
func deleteMFADevices(ctx context.Context, c *command) error {
	all := c.optSet("all")
	if (len(c.args) == 2) == all {
		return errors.New("give a device id or --all, not both")
	}
	name := c.args[0]
	id, err := c.userID(ctx, name)
	if err != nil {
		return err
	}
	if all {
		var out struct{ DeletedCount int }
		if err := c.adminOut(ctx, "ResetUserMfa", map[string]string{"IdentityStoreId": c.storeID, "UserId": id}, &out); err != nil {
			return err
		}
		return c.printOne(map[string]string{"UserName": name, "Deleted": strconv.Itoa(out.DeletedCount)}, []string{"UserName", "Deleted"})
	}
	device := c.args[1]
	if err := c.admin(ctx, "DeleteMfaDevice", map[string]string{"IdentityStoreId": c.storeID, "UserId": id, "DeviceId": device}); err != nil {
		return err
	}
	return c.printOne(map[string]string{"UserName": name, "DeviceId": device, "Deleted": "true"}, []string{"UserName", "DeviceId", "Deleted"})
}
