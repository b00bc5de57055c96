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
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check workflow files (JSON or YAML) offline; exit 1 listing every problem",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, path := range args {
				if !validateFile(cmd, path) {
					failed++
				}
			}
			if failed > 0 {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d file(s) invalid", failed, len(args))}
			}
			return nil
		},
	}
}

func validateFile(cmd *cobra.Command, path string) bool {
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(errw, "%s: %v\n", path, err)
		return false
	}
	ext := strings.ToLower(filepath.Ext(path))
	def, err := engine.ValidateDefinition(data, ext == ".yaml" || ext == ".yml", connectors.Default)
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
