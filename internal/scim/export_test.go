package scim

// SetMaxScan lowers the bound on filters no index answers, for tests.
func SetMaxScan(n int) (restore func()) {
	old := maxScan.Swap(int64(n))
	return func() { maxScan.Store(old) }
}
