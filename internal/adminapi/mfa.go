package adminapi

import (
	"context"
	"errors"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/signin"
)

// Mfa is what the API needs of sign-in's MFA devices.
type Mfa interface {
	MFADevices(ctx context.Context, identityStoreID, userID string) ([]signin.MFADevice, error)
	DeleteMFADevice(ctx context.Context, identityStoreID, userID, deviceID string) error
	ResetMFA(ctx context.Context, identityStoreID, userID string) (int, error)
}

// mfaOps list and remove users' MFA devices (`atrium user mfa list|delete`),
// for a person who lost a phone or a key. Removing devices forgets the
// browsers remembered with them; with mfa.mode required the user
// registers a new device at the next sign-in.
func mfaOps(mfa Mfa) map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"ListMfaDevices": awsproto.Op(func(ctx context.Context, in *userIn) (*listMfaDevicesOut, error) {
			list, err := mfa.MFADevices(ctx, in.IdentityStoreId, in.UserId)
			if err != nil {
				return nil, signinError(err, in.UserId)
			}
			out := &listMfaDevicesOut{MfaDevices: make([]mfaDeviceOut, len(list))}
			for i, d := range list {
				out.MfaDevices[i] = mfaDeviceOut{DeviceId: d.ID, Type: d.Type, Name: d.Name, CreatedAt: awsproto.Timestamp(d.CreatedAt)}
				if !d.LastUsedAt.IsZero() {
					used := awsproto.Timestamp(d.LastUsedAt)
					out.MfaDevices[i].LastUsedAt = &used
				}
			}
			return out, nil
		}),
		"DeleteMfaDevice": awsproto.Op(func(ctx context.Context, in *deleteMfaDeviceIn) (*struct{}, error) {
			err := mfa.DeleteMFADevice(ctx, in.IdentityStoreId, in.UserId, in.DeviceId)
			if errors.Is(err, signin.ErrNoDevice) {
				return nil, apierr.New(400, "ResourceNotFoundException", "MFA_DEVICE not found.").With("ResourceType", "MFA_DEVICE").With("ResourceId", in.DeviceId)
			}
			return nil, signinError(err, in.UserId)
		}),
		"ResetUserMfa": awsproto.Op(func(ctx context.Context, in *userIn) (*resetUserMfaOut, error) {
			n, err := mfa.ResetMFA(ctx, in.IdentityStoreId, in.UserId)
			if err != nil {
				return nil, signinError(err, in.UserId)
			}
			return &resetUserMfaOut{DeletedCount: n}, nil
		}),
	}
}

type mfaDeviceOut struct {
	DeviceId   string
	Type       string
	Name       string
	CreatedAt  awsproto.Timestamp
	LastUsedAt *awsproto.Timestamp `json:",omitempty"`
}

type listMfaDevicesOut struct {
	MfaDevices []mfaDeviceOut
}

type deleteMfaDeviceIn struct {
	IdentityStoreId string
	UserId          string
	DeviceId        string
}

type resetUserMfaOut struct {
	DeletedCount int
}
