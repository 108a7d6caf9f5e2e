package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The stories under testdata/clients drive a node with the clients people
// actually use: boto3 and the AWS CLI (v1). They read the endpoint and key
// from the environment and print one line per step.

// lookPath finds name on PATH; a pyenv shim is resolved to the program it
// stands for, which saves the shim's second or more on every call.
func lookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil || !strings.Contains(p, "/shims/") {
		return p, err
	}
	if out, err := exec.Command("pyenv", "which", name).Output(); err == nil {
		if real := strings.TrimSpace(string(out)); filepath.IsAbs(real) {
			if _, err := os.Stat(real); err == nil {
				return real, nil
			}
		}
	}
	return p, nil
}

// requireBoto3 skips unless python3 can import boto3.
func requireBoto3(t *testing.T) string {
	t.Helper()
	py, err := lookPath("python3")
	if err != nil {
		t.Skip("boto3 story skipped: python3 is not on PATH")
	}
	if out, err := exec.Command(py, "-c", "import boto3").CombinedOutput(); err != nil {
		t.Skipf("boto3 story skipped: python3 cannot import boto3 (pip install boto3): %v\n%s", err, out)
	}
	return py
}

// requireAWSCLI skips unless `aws` is on PATH and runs.
func requireAWSCLI(t *testing.T) string {
	t.Helper()
	aws, err := lookPath("aws")
	if err != nil {
		t.Skip("AWS CLI tests skipped: `aws` is not on PATH (pip install awscli)")
	}
	if out, err := exec.Command(aws, "--version").CombinedOutput(); err != nil {
		t.Skipf("AWS CLI tests skipped: `aws --version` fails: %v\n%s", err, out)
	}
	return aws
}

// clientEnv is the environment for an AWS client run against n: this
// process's environment without any AWS_* setting of the machine, no shared
// config or credentials file, and extra appended (AWS_ENDPOINT_URL and the
// region always, the key only when withKey).
func clientEnv(t *testing.T, n *node, withKey bool, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ENDPOINT_URL="+n.URL,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
	if withKey {
		if n.KeyID == "" || n.Secret == "" {
			t.Fatal("the node has no bootstrap key to hand to the client")
		}
		env = append(env, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret)
	}
	// Later entries win in exec.Cmd.Env, so extra can override the above.
	return append(env, extra...)
}

type runResult struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

func (r runResult) output() string {
	return "--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr
}

// runClient runs name args with env, bounded by timeout.
func runClient(t *testing.T, timeout time.Duration, env []string, name string, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	return runResult{stdout: stdout.String(), stderr: stderr.String(), err: err, took: time.Since(start)}
}

// runStory runs a story script against a fresh node on one backend and
// fails unless it exits 0 having printed its PASS line.
func runStory(t *testing.T, o nodeOptions, pass string, env []string, name string, args ...string) {
	t.Helper()
	n := startNode(t, o)
	r := runClient(t, 3*time.Minute, clientEnv(t, n, true, env...), name, args...)
	if r.err != nil {
		t.Fatalf("%s %s: %v (after %s)\n%s\n--- node log\n%s", name, strings.Join(args, " "), r.err, r.took, r.output(), n.Log())
	}
	if !strings.Contains(r.stdout, pass) {
		t.Fatalf("%s exited 0 without printing %q\n%s", name, pass, r.output())
	}
	t.Logf("story passed in %s\n%s", r.took.Round(time.Millisecond), r.stdout)
}

func storyScript(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "clients", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBoto3Story walks the whole Organizations story (and the error shapes)
// with boto3; the assertions live in testdata/clients/boto3_story.py.
func TestBoto3Story(t *testing.T) {
	py := requireBoto3(t)
	script := storyScript(t, "boto3_story.py")
	backends(t, func(t *testing.T, o nodeOptions) {
		runStory(t, o, "PASS boto3 story", nil, py, script)
	})
}

// TestAWSCLIStory walks the core story with the AWS CLI; the assertions live
// in testdata/clients/awscli_story.sh.
func TestAWSCLIStory(t *testing.T) {
	aws := requireAWSCLI(t)
	// The script calls `aws`: the one found here, first on its PATH.
	path := "PATH=" + filepath.Dir(aws) + string(os.PathListSeparator) + os.Getenv("PATH")
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("AWS CLI story skipped: bash is not on PATH")
	}
	script := storyScript(t, "awscli_story.sh")
	backends(t, func(t *testing.T, o nodeOptions) {
		runStory(t, o, "PASS aws cli story", []string{path}, bash, script)
	})
}

// TestCredentialsFileWorksWithAWSCLI proves the bootstrap-credentials file a
// node writes is usable as written: the AWS CLI, given only that file and
// its profile (no key in the environment), is the management account's root.
func TestCredentialsFileWorksWithAWSCLI(t *testing.T) {
	aws := requireAWSCLI(t)
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		file := filepath.Join(n.Data, "bootstrap-credentials")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("the node wrote no credentials file: %v", err)
		}
		info, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s is readable by others: mode %v", file, perm)
		}
		m := regexp.MustCompile(`management account (\d{12})`).FindStringSubmatch(string(b))
		if m == nil {
			t.Fatalf("%s does not name the management account:\n%s", file, b)
		}
		want := m[1]
		out, err := n.organizations().DescribeOrganization(ctxT(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := *out.Organization.MasterAccountId; got != want {
			t.Fatalf("the file names management account %s, DescribeOrganization %s", want, got)
		}

		// Only the endpoint, the file and the profile: no key and no region
		// in the environment (the region comes from the file too).
		var env []string
		for _, kv := range clientEnv(t, n, false, "AWS_SHARED_CREDENTIALS_FILE="+file, "AWS_PROFILE=atrium-admin") {
			switch k, _, _ := strings.Cut(kv, "="); k {
			case "AWS_DEFAULT_REGION", "AWS_REGION":
			case "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN":
				t.Fatalf("a key leaked into the environment: %s", kv)
			default:
				env = append(env, kv)
			}
		}
		r := runClient(t, time.Minute, env, aws, "sts", "get-caller-identity", "--output", "text", "--query", "[Account,Arn]")
		if r.err != nil {
			t.Fatalf("aws sts get-caller-identity with %s, profile atrium-admin: %v\n%s\n--- file\n%s", file, r.err, r.output(), b)
		}
		fields := strings.Fields(r.stdout)
		wantArn := "arn:aws:iam::" + want + ":root"
		if len(fields) != 2 || fields[0] != want || fields[1] != wantArn {
			t.Fatalf("aws sts get-caller-identity printed %q, want %q", r.stdout, want+"\t"+wantArn)
		}

		// The same CLI with the profile but no file is not the admin: the
		// success above came from the file.
		r = runClient(t, time.Minute, clientEnv(t, n, false, "AWS_PROFILE=atrium-admin"), aws, "sts", "get-caller-identity")
		if r.err == nil {
			t.Fatalf("aws sts get-caller-identity succeeded without the credentials file:\n%s", r.output())
		}
		if !strings.Contains(r.stderr, "atrium-admin") {
			t.Fatalf("without the file the CLI failed, but not for the missing profile:\n%s", r.output())
		}
	})
}
