package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/atrium-sso/atrium/internal/accounts"
	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

const (
	metaBootstrapped = "bootstrapped-at"
	metaPagerKey     = "pagination-key"
	// CredentialsFile is written into the data folder with the generated bootstrap key.
	CredentialsFile = "bootstrap-credentials"
	// CredentialsProfile is the profile name in that file.
	CredentialsProfile = "atrium-admin"
)

// bootstrap runs once per database (the caller holds the migration lock):
// the organization and management account, the Identity Center instance,
// the pagination key and the bootstrap admin key. Every start also installs
// a bootstrap key given through the environment.
func bootstrap(ctx context.Context, s store.Store, cfg *config.Config, getenv func(string) string, log *slog.Logger) error {
	envKey, envSecret := getenv("ATRIUM_BOOTSTRAP_ACCESS_KEY_ID"), getenv("ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY")
	if (envKey == "") != (envSecret == "") {
		return errors.New("ATRIUM_BOOTSTRAP_ACCESS_KEY_ID and ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY go together")
	}
	var credPath string
	err := s.Write(ctx, func(tx store.Tx) error {
		credPath = ""
		first, err := tx.PutMetaIfAbsent(ctx, metaBootstrapped, time.Now().UTC().Format(time.RFC3339))
		if err != nil {
			return err
		}
		org, err := accounts.Bootstrap(ctx, tx, cfg.ManagementAccountID, cfg.ManagementEmail)
		if err != nil {
			return err
		}
		if cfg.ManagementAccountID != "" && org.ManagementAccountID != cfg.ManagementAccountID {
			return fmt.Errorf("--management-account-id %s differs from this database's management account %s", cfg.ManagementAccountID, org.ManagementAccountID)
		}
		key := store.AccessKey{ID: envKey, Secret: envSecret, AccountID: org.ManagementAccountID,
			PrincipalARN: "arn:aws:iam::" + org.ManagementAccountID + ":root", UserID: org.ManagementAccountID, Status: "Active", CreatedAt: time.Now().UTC()}
		if envKey != "" {
			if err := tx.PutAccessKey(ctx, key); err != nil {
				return err
			}
		}
		if !first {
			return nil
		}
		if _, err := tx.PutMetaIfAbsent(ctx, metaPagerKey, ids.Hex(32)); err != nil {
			return err
		}
		instance := store.Instance{ARN: "arn:aws:sso:::instance/" + ids.InstanceID(), IdentityStoreID: ids.IdentityStoreID(),
			OwnerAccountID: org.ManagementAccountID, Name: "atrium", Status: "ACTIVE", CreatedAt: time.Now().UTC()}
		if err := tx.InsertInstance(ctx, instance); err != nil {
			return err
		}
		if envKey != "" {
			return nil
		}
		key.ID, key.Secret = ids.AccessKeyID(), ids.SecretAccessKey()
		if err := tx.PutAccessKey(ctx, key); err != nil {
			return err
		}
		// Written before commit: if the commit fails the file goes, if the
		// process dies after it the key is still on disk.
		credPath, err = writeCredentials(cfg, key)
		return err
	})
	if err != nil {
		if credPath != "" {
			os.Remove(credPath)
		}
		return err
	}
	if credPath != "" {
		log.Info("bootstrap admin credentials written", "file", credPath, "profile", CredentialsProfile)
	}
	return nil
}

func writeCredentials(cfg *config.Config, key store.AccessKey) (string, error) {
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return "", err
	}
	path, err := filepath.Abs(filepath.Join(cfg.Data, CredentialsFile))
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("bootstrap credentials: %w (a file from another database is in the way)", err)
	}
	_, err = fmt.Fprintf(f, "# Atrium bootstrap admin key: the root of management account %s.\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n",
		key.AccountID, CredentialsProfile, key.ID, key.Secret, cfg.Region)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// pagerKey reads the shared pagination key.
func pagerKey(ctx context.Context, s store.Store) ([]byte, error) {
	var v string
	err := s.Read(ctx, func(tx store.Tx) error {
		var err error
		v, err = tx.GetMeta(ctx, metaPagerKey)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pagination key: %w", err)
	}
	return hex.DecodeString(v)
}
