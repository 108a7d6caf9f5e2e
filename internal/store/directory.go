package store

// DirectoryTx is the identity store's part of a transaction: users, groups
// and group memberships.
type DirectoryTx interface{}
