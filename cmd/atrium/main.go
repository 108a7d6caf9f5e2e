// Command atrium is the Atrium server and its admin CLI.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/atrium-sso/atrium/internal/cli"
	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/server"
)

const usage = `atrium: a self-hosted AWS IAM Identity Center.

Usage:
  atrium serve [flags]   run the server (atrium serve -h lists the flags)
  atrium version         print the version

` + cli.Usage

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "user", "group", "permission-set", "assignment", "settings", "session", "scim", "idp":
		return cli.Run(context.Background(), args[0], args[1:], cli.Env{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv})
	case "version", "--version":
		fmt.Fprintln(stdout, "atrium", server.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "atrium: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func serve(args []string, stderr io.Writer) int {
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "atrium serve:", err)
		return 2
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(server.GCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv, err := server.Open(ctx, cfg, os.Getenv, log)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	if err := srv.Run(ctx); err != nil {
		log.Error("server stopped", "error", err)
		return 1
	}
	log.Info("stopped")
	return 0
}
