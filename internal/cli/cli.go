// Package cli is the `atrium` admin command line: a client of a running
// server that speaks the same APIs as any AWS client (identitystore,
// sso-admin) plus Atrium's own admin API, with credentials from the
// standard AWS chain.
package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"

	"github.com/atrium-sso/atrium/internal/adminapi"
)

// Usage lists the admin commands.
const Usage = `Admin commands (clients of a running server; AWS credentials from the standard chain):
  atrium user create NAME --given-name G --family-name F [--display-name D] [--email E]
  atrium user list | show NAME | disable NAME | enable NAME | delete NAME
  atrium user set-password NAME [--temporary]   (reads the password from stdin)
  atrium user set-password NAME --generate      (prints a one-time password)
  atrium user mfa list NAME | delete NAME (DEVICE-ID | --all)   (a lost phone or key)
  atrium group create NAME [--description D]
  atrium group list | add-member GROUP USER | remove-member GROUP USER
  atrium permission-set create NAME [--description D] [--session-duration PT4H] [--relay-state URL]
  atrium permission-set list | show NAME
  atrium permission-set attach-policy NAME (POLICY | --customer-managed NAME[:PATH])
  atrium permission-set put-inline-policy NAME FILE      (- for stdin)
  atrium permission-set provision NAME [--account ACCOUNT]   (default: every account it is provisioned to)
  atrium assignment create|delete --account ACCOUNT --permission-set NAME (--user NAME | --group NAME)
  atrium assignment list [--account ACCOUNT] [--permission-set NAME] [--user NAME | --group NAME]
  atrium settings get [KEY] | set KEY VALUE     (mfa.mode, mfa.prompt, portal.session-duration, password.*)
  atrium session list [--user NAME]
  atrium session revoke ID | --user NAME        (ends its tokens and role credentials at once)
  atrium scim token create [--source NAME] [--expires-in 90d]   (prints the token alone as the last line)
  atrium scim token list | revoke ID
  atrium idp create NAME --type saml (--metadata-url URL | --metadata-file FILE) [--attribute-mapping email=ATTR,...]
  atrium idp create NAME --type oidc --issuer URL --client-id ID [--client-secret-stdin] [--scopes openid,email] [--email-claim C]
      both: [--email-domains D,D] [--mfa trust|atrium] [--jit] [--disable] [--config JSON|@FILE]
  atrium idp list | show NAME | delete NAME | update NAME [same options, --enable, --no-jit, --new-name N]
  atrium user set-source NAME (--idp IDP | --builtin)   (which identity source the user signs in through)
  POLICY is an AWS managed policy ARN or name (ReadOnlyAccess); ACCOUNT is an account id or name.
Common flags: --endpoint-url URL (env ATRIUM_ENDPOINT_URL, default http://127.0.0.1:8080),
  --output table|json, --profile NAME, --region REGION
`

// Env is what a command reads from its surroundings.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// command is one parsed admin command line.
type command struct {
	env       Env
	args      []string // positional arguments
	flags     *flag.FlagSet
	endpoint  *string
	output    *string
	profile   *string
	region    *string
	aws       aws.Config
	instance  string // the Identity Center instance ARN
	storeID   string
	optString map[string]*string
	optBool   map[string]*bool
}

// Run runs `atrium <noun> <verb> …` and returns the exit code.
func Run(ctx context.Context, noun string, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, Usage)
		return 2
	}
	verb, rest := args[0], args[1:]
	type spec struct {
		positional []string // "[NAME]" is optional
		options    []string
		run        func(context.Context, *command) error
	}
	specs := map[string]spec{
		"user create":         {[]string{"NAME"}, []string{"given-name", "family-name", "display-name", "email"}, createUser},
		"user list":           {nil, nil, listUsers},
		"user show":           {[]string{"NAME"}, nil, showUser},
		"user disable":        {[]string{"NAME"}, nil, func(ctx context.Context, c *command) error { return setUserStatus(ctx, c, false) }},
		"user enable":         {[]string{"NAME"}, nil, func(ctx context.Context, c *command) error { return setUserStatus(ctx, c, true) }},
		"user delete":         {[]string{"NAME"}, nil, deleteUser},
		"user set-password":   {[]string{"NAME"}, nil, setPassword},
		"user mfa list":       {[]string{"NAME"}, nil, listMFADevices},
		"user mfa delete":     {[]string{"NAME", "[DEVICE-ID]"}, nil, deleteMFADevices},
		"settings get":        {[]string{"[KEY]"}, nil, getSettings},
		"settings set":        {[]string{"KEY", "VALUE"}, nil, setSetting},
		"session list":        {nil, []string{"user"}, listSessions},
		"session revoke":      {[]string{"[ID]"}, []string{"user"}, revokeSessions},
		"scim token create":   {nil, []string{"source", "expires-in"}, createScimToken},
		"scim token list":     {nil, nil, listScimTokens},
		"scim token revoke":   {[]string{"ID"}, nil, revokeScimToken},
		"group create":        {[]string{"NAME"}, []string{"description"}, createGroup},
		"group list":          {nil, nil, listGroups},
		"group add-member":    {[]string{"GROUP", "USER"}, nil, addMember},
		"group remove-member": {[]string{"GROUP", "USER"}, nil, removeMember},

		"permission-set create":            {[]string{"NAME"}, []string{"description", "session-duration", "relay-state"}, createPermissionSet},
		"permission-set list":              {nil, nil, listPermissionSets},
		"permission-set show":              {[]string{"NAME"}, nil, showPermissionSet},
		"permission-set attach-policy":     {[]string{"NAME", "[POLICY]"}, []string{"customer-managed"}, attachPolicy},
		"permission-set put-inline-policy": {[]string{"NAME", "FILE"}, nil, putInlinePolicy},
		"permission-set provision":         {[]string{"NAME"}, []string{"account"}, provisionPermissionSet},
		"assignment create":                {nil, []string{"account", "permission-set", "user", "group"}, createAssignment},
		"assignment list":                  {nil, []string{"account", "permission-set", "user", "group"}, listAssignments},
		"assignment delete":                {nil, []string{"account", "permission-set", "user", "group"}, deleteAssignment},

		"idp create":      {[]string{"NAME"}, idpOptions, createIdP},
		"idp update":      {[]string{"NAME"}, idpOptions, updateIdP},
		"idp list":        {nil, nil, listIdPs},
		"idp show":        {[]string{"NAME"}, nil, showIdP},
		"idp delete":      {[]string{"NAME"}, nil, deleteIdP},
		"user set-source": {[]string{"NAME"}, []string{"idp"}, setUserSource},
	}
	sp, ok := specs[noun+" "+verb]
	if !ok && len(rest) > 0 { // three-word commands: atrium scim token create
		if sp, ok = specs[noun+" "+verb+" "+rest[0]]; ok {
			verb, rest = verb+" "+rest[0], rest[1:]
		}
	}
	if !ok {
		fmt.Fprintf(env.Stderr, "atrium: unknown command %q\n\n%s", noun+" "+verb, Usage)
		return 2
	}
	// Commands' on/off flags.
	switches := map[string][]string{
		"user set-password": {"temporary", "generate"},
		"user mfa delete":   {"all"},
		"idp create":        idpSwitches,
		"idp update":        idpSwitches,
		"user set-source":   {"builtin"},
	}
	c := &command{env: env, flags: flag.NewFlagSet("atrium "+noun+" "+verb, flag.ContinueOnError), optString: map[string]*string{}, optBool: map[string]*bool{}}
	c.flags.SetOutput(env.Stderr)
	def := env.Getenv("ATRIUM_ENDPOINT_URL")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	c.endpoint = c.flags.String("endpoint-url", def, "Atrium's URL")
	c.output = c.flags.String("output", "table", "table or json")
	c.profile = c.flags.String("profile", "", "AWS profile to take credentials from")
	c.region = c.flags.String("region", "", "region to sign for (default: from the AWS config, else us-east-1)")
	for _, o := range sp.options {
		c.optString[o] = c.flags.String(o, "", o)
	}
	for _, o := range switches[noun+" "+verb] {
		c.optBool[o] = c.flags.Bool(o, false, o)
	}
	// Flags may come before, between or after the positional arguments.
	for {
		if err := c.flags.Parse(rest); err != nil {
			return 2
		}
		if c.flags.NArg() == 0 {
			break
		}
		c.args = append(c.args, c.flags.Arg(0))
		rest = c.flags.Args()[1:]
	}
	required := 0
	for _, p := range sp.positional {
		if !strings.HasPrefix(p, "[") {
			required++
		}
	}
	if len(c.args) < required || len(c.args) > len(sp.positional) {
		fmt.Fprintf(env.Stderr, "usage: atrium %s %s %s [flags]\n", noun, verb, strings.Join(sp.positional, " "))
		return 2
	}
	if *c.output != "table" && *c.output != "json" {
		fmt.Fprintln(env.Stderr, "atrium: --output must be table or json")
		return 2
	}
	if err := c.connect(ctx); err != nil {
		fmt.Fprintln(env.Stderr, "atrium:", err)
		return 1
	}
	if err := sp.run(ctx, c); err != nil {
		fmt.Fprintln(env.Stderr, "atrium:", describe(err))
		return 1
	}
	return 0
}

func (c *command) opt(name string) string { return *c.optString[name] }

func (c *command) optSet(name string) bool { return *c.optBool[name] }

// connect loads credentials and finds the identity store.
func (c *command) connect(ctx context.Context) error {
	opts := []func(*config.LoadOptions) error{config.WithDefaultRegion("us-east-1")}
	if *c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(*c.profile))
	}
	if *c.region != "" {
		opts = append(opts, config.WithRegion(*c.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return err
	}
	cfg.BaseEndpoint = aws.String(strings.TrimSuffix(*c.endpoint, "/"))
	c.aws = cfg
	out, err := ssoadmin.NewFromConfig(cfg).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		return fmt.Errorf("cannot reach Atrium at %s: %s", *c.endpoint, describe(err))
	}
	if len(out.Instances) == 0 {
		return errors.New("the server has no Identity Center instance")
	}
	c.instance = aws.ToString(out.Instances[0].InstanceArn)
	c.storeID = aws.ToString(out.Instances[0].IdentityStoreId)
	return nil
}

func (c *command) identitystore() *identitystore.Client { return identitystore.NewFromConfig(c.aws) }

// admin calls an operation of Atrium's own admin API, signed like any AWS call.
func (c *command) admin(ctx context.Context, op string, in any) error {
	return c.adminOut(ctx, op, in, nil)
}

// adminOut is admin that also reads the operation's output into out (when not nil).
func (c *command) adminOut(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *c.aws.BaseEndpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", adminapi.TargetPrefix+"."+op)
	creds, err := c.aws.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), adminapi.SigningName, c.aws.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		if out == nil {
			return nil
		}
		return json.Unmarshal(raw, out)
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Type == "" {
		return fmt.Errorf("%s: HTTP %d", op, resp.StatusCode)
	}
	return &smithy.GenericAPIError{Code: e.Type, Message: e.Message}
}

// describe renders an error as "Code: message" when it is an API error.
func describe(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// print writes rows as a table (with header) or as JSON objects keyed by the header.
func (c *command) print(header []string, rows [][]string) error {
	if *c.output == "json" {
		objs := make([]map[string]string, len(rows))
		for i, r := range rows {
			objs[i] = map[string]string{}
			for j, h := range header {
				objs[i][h] = r[j]
			}
		}
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// printOne writes one object as key/value lines or as a JSON object.
func (c *command) printOne(v map[string]string, order []string) error {
	if *c.output == "json" {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	for _, k := range order {
		fmt.Fprintf(tw, "%s:\t%s\n", k, v[k])
	}
	return tw.Flush()
}
