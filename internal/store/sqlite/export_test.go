package sqlite

// SetWriterCheckpointPages changes the writer's checkpoint threshold for
// stores opened until restore is called.
func SetWriterCheckpointPages(n int) (restore func()) {
	old := writerCheckpointPages
	writerCheckpointPages = n
	return func() { writerCheckpointPages = old }
}
