package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/connectors"
	"github.com/hookflow/hookflow/engine"
	"github.com/hookflow/hookflow/engine/workflow"
)

func newValidateCommand() *cobra.Command {
	var connectorDirs []string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check workflow files (JSON or YAML) offline; exit 1 listing every problem",
		Long: "Check workflow files (JSON or YAML) offline against the built-in connectors, plus the\n" +
			"declarative connector files of each --connectors directory (a server's\n" +
			"HOOKFLOW_DATA_DIR/connectors, say). A connector file that does not load is exit 2.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			reg := connectors.Default
			if len(connectorDirs) > 0 {
				var err error
				if reg, err = withConnectorDirs(reg, connectorDirs); err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
			}
			failed := 0
			for _, path := range args {
				if !validateFile(cmd, path, reg) {
					failed++
				}
			}
			if failed > 0 {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d file(s) invalid", failed, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&connectorDirs, "connectors", nil,
		"a directory of declarative connector files (*.yaml, *.yml, *.json) to validate against; repeatable")
	return cmd
}

// withConnectorDirs returns a copy of reg with the connector files of dirs added, loaded
// as a server loads its folder, or every file's problems.
func withConnectorDirs(reg *connectors.Registry, dirs []string) (*connectors.Registry, error) {
	var added []*connectors.Connector
	var problems []error
	for _, dir := range dirs {
		cs, err := engine.LoadConnectorFolder(dir)
		if err != nil {
			problems = append(problems, err)
		}
		for _, c := range cs {
			if _, taken := reg.Connector(c.Name); taken {
				problems = append(problems, fmt.Errorf("%s: connector name %q is taken by a built-in connector", c.Source, c.Name))
				continue
			}
			added = append(added, c)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return reg.With(added...), nil
}

func validateFile(cmd *cobra.Command, path string, reg *connectors.Registry) bool {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(errw, "%s: %v\n", path, err)
		return false
	}
	ext := strings.ToLower(filepath.Ext(path))
	def, err := engine.ValidateDefinition(data, ext == ".yaml" || ext == ".yml", reg)
	var invalid *workflow.ValidationError
	switch {
	case errors.As(err, &invalid):
		for _, fe := range invalid.Errors {
			if fe.Path == "" {
				fmt.Fprintf(errw, "%s: %s\n", path, fe.Message)
			} else {
				fmt.Fprintf(errw, "%s: %s: %s\n", path, fe.Path, fe.Message)
			}
		}
		return false
	case err != nil:
		fmt.Fprintf(errw, "%s: %v\n", path, err)
		return false
	}
	fmt.Fprintf(out, "%s: ok (workflow %q, %s trigger, %d step(s))\n", path, def.Name, def.Trigger.Type, len(def.Steps))
	return true
}
