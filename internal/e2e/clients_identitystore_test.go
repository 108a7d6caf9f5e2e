package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBoto3IdentityStoreStory walks users, groups and memberships (and the
// identitystore error shapes) with boto3; the assertions live in
// testdata/clients/boto3_identitystore.py.
func TestBoto3IdentityStoreStory(t *testing.T) {
	py := requireBoto3(t)
	script := storyScript(t, "boto3_identitystore.py")
	backends(t, func(t *testing.T, o nodeOptions) {
		runStory(t, o, "PASS boto3 identitystore story", nil, py, script)
	})
}

// TestAWSCLIIdentityStoreStory walks the core identity store story with the
// AWS CLI; the assertions live in testdata/clients/awscli_identitystore.sh.
func TestAWSCLIIdentityStoreStory(t *testing.T) {
	aws := requireAWSCLI(t)
	// The script calls `aws`: the one found here, first on its PATH.
	path := "PATH=" + filepath.Dir(aws) + string(os.PathListSeparator) + os.Getenv("PATH")
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("AWS CLI identitystore story skipped: bash is not on PATH")
	}
	script := storyScript(t, "awscli_identitystore.sh")
	backends(t, func(t *testing.T, o nodeOptions) {
		runStory(t, o, "PASS aws cli identitystore story", []string{path}, bash, script)
	})
}
