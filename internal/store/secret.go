package store

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/atrium-sso/atrium/internal/ids"
)

// Secret is the 32-byte random key the meta table keeps under name: made by
// the first node that asks, the same on every node after (cookie sealing,
// sign-in keys), so a browser's request may land on any node.
func Secret(ctx context.Context, s Store, name string) ([]byte, error) {
	var v string
	err := s.Write(ctx, func(tx Tx) error {
		if _, err := tx.PutMetaIfAbsent(ctx, name, ids.Hex(32)); err != nil {
			return err
		}
		var err error
		v, err = tx.GetMeta(ctx, name)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("key %s: the stored key is damaged", name)
	}
	return key, nil
}
