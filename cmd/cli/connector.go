package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/connectors/declarative"
	"github.com/hookflow/hookflow/connectors/declarative/kit"
)

// ExitInvalid is the exit code of connector test and lint when the connector file itself
// is invalid (its problems are printed as file:line:col: path: message).
const ExitInvalid = 2

func newConnectorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "connector",
		Short: "Work on declarative connector files: test them against recorded fixtures, lint them, print their JSON Schema",
	}
	cmd.AddCommand(newConnectorTestCommand(), newConnectorLintCommand(), newConnectorSchemaCommand())
	return cmd
}

func newConnectorTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE [FIXTURES_DIR]",
		Short: "Replay a connector's recorded fixtures offline; exit 1 when a case fails or a required case is missing, 2 when the file is invalid",
		Long: "Runs every fixture (*.yaml, *.yml, *.json) of FIXTURES_DIR against the connector file, with no\n" +
			"network: each fixture lists the requests the connector must send, in order, and the responses\n" +
			"they get. FIXTURES_DIR defaults to the file's path without its extension (github.yaml → github/).",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			dir := strings.TrimSuffix(path, filepath.Ext(path))
			if len(args) == 2 {
				dir = args[1]
			}
			def, _, err := loadConnectorFile(cmd, path, false)
			if err != nil {
				return err
			}
			report, err := kit.Run(cmd.Context(), def, dir)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			fmt.Fprint(cmd.OutOrStdout(), report.String())
			if !report.Passed() {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("connector %s: fixtures in %s failed", def.File.Name, dir)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: connector %s passes %d fixture(s)\n", def.File.Name, len(report.Cases))
			return nil
		},
	}
}

func newConnectorLintCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "lint FILE",
		Short: "Check a connector file offline; print its warnings; exit 2 when it is invalid",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, warnings, err := loadConnectorFile(cmd, args[0], true)
			if err != nil {
				return err
			}
			if len(warnings) > 0 {
				text := (&declarative.LoadError{File: args[0], Problems: warnings}).Error()
				for _, line := range strings.Split(text, "\n") {
					fmt.Fprintln(cmd.ErrOrStderr(), "warning: "+line)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (connector %s, %d action(s), %d trigger(s), %d warning(s))\n",
				args[0], def.File.Name, len(def.File.Actions), len(def.File.Triggers), len(warnings))
			return nil
		},
	}
}

func newConnectorSchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of connector files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			schema := declarative.Schema()
			if _, err := cmd.OutOrStdout().Write(schema); err != nil {
				return fmt.Errorf("write the schema: %w", err)
			}
			if len(schema) > 0 && schema[len(schema)-1] != '\n' {
				fmt.Fprintln(cmd.OutOrStdout())
			}
			return nil
		},
	}
}

// loadConnectorFile reads and checks a connector file, and builds its connector so that
// what only the runtime checks is reported too. An invalid file prints its problems, one
// "file:line:col: path: message" per line, and returns an ExitInvalid error.
func loadConnectorFile(cmd *cobra.Command, path string, lint bool) (*declarative.Definition, []declarative.Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &ExitError{Code: ExitInvalid, Err: err}
	}
	src := declarative.Source{Path: path, Origin: declarative.OriginDir, Data: data}
	var def *declarative.Definition
	var warnings []declarative.Problem
	if lint {
		def, warnings, err = declarative.Lint(src)
	} else {
		def, err = declarative.Parse(src)
	}
	var invalid *declarative.LoadError
	if errors.As(err, &invalid) {
		fmt.Fprintln(cmd.ErrOrStderr(), invalid.Error())
		return nil, nil, &ExitError{Code: ExitInvalid, Err: fmt.Errorf("%s: %d problem(s)", path, len(invalid.Problems))}
	}
	if err != nil {
		return nil, nil, &ExitError{Code: ExitInvalid, Err: fmt.Errorf("%s: %w", path, err)}
	}
	if _, err := def.Connector(declarative.Options{}); err != nil {
		return nil, nil, &ExitError{Code: ExitInvalid, Err: fmt.Errorf("%s: %w", path, err)}
	}
	return def, warnings, nil
}
