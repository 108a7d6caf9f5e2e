package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestBoto3SSOAdminStory walks permission sets, assignments and provisioning
// with boto3, down to the role they make in a member account; the assertions
// live in testdata/clients/boto3_ssoadmin.py.
func TestBoto3SSOAdminStory(t *testing.T) {
	py := requireBoto3(t)
	script := storyScript(t, "boto3_ssoadmin.py")
	backends(t, func(t *testing.T, o nodeOptions) {
		runStory(t, o, "PASS boto3 sso-admin story", nil, py, script)
	})
}

// TestAWSCLISSOAdminStory walks the same story with the AWS CLI; the
// assertions live in testdata/clients/awscli_ssoadmin.sh.
func TestAWSCLISSOAdminStory(t *testing.T) {
	aws := requireAWSCLI(t)
	// The script calls `aws`: the one found here, first on its PATH.
	path := "PATH=" + filepath.Dir(aws) + string(os.PathListSeparator) + os.Getenv("PATH")
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("AWS CLI sso-admin story skipped: bash is not on PATH")
	}
	script := storyScript(t, "awscli_ssoadmin.sh")
	backends(t, func(t *testing.T, o nodeOptions) {
		runStory(t, o, "PASS aws cli sso-admin story", []string{path}, bash, script)
	})
}
