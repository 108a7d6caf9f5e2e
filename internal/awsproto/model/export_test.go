package model

// SyntheticQuery is the test-only query model of model_test.go, for the
// external fuzz tests.
func SyntheticQuery() *Service {
	s, err := parseData("synthetic", []byte(queryModel))
	if err != nil {
		panic(err)
	}
	return s
}
