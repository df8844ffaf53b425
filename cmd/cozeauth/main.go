// Command cozeauth is the cozeauth server and its admin CLI.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	_ "time/tzdata" // the console's custom dates are in the browser's zone, which a bare machine may not have

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "cozeauth: "+oneLine(err))
		os.Exit(1)
	}
}

func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "cozeauth",
		Short:         "A self-hosted authorization server for the Coze OpenAPI credential model",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return bindEnv(cmd)
		},
	}
	root.AddCommand(newServe(), newMigrate(), newAdmin(), newVersion())
	requireSubcommands(root)
	return root
}

// requireSubcommands makes every command group (one that only holds
// subcommands) fail on an unknown or missing subcommand with a one-line
// error and exit status 1, instead of printing its help and exiting 0.
func requireSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		requireSubcommands(c)
	}
	if !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("unknown command %q for %q (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
		}
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return fmt.Errorf("%s needs a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
	}
}

// bindEnv fills every flag not given on the command line from COZEAUTH_<FLAG>
// (dashes become underscores), so `--db` can come from COZEAUTH_DB.
func bindEnv(cmd *cobra.Command) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		name := "COZEAUTH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := cmd.Flags().Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	})
	return errors.Join(errs...)
}
