package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
)

func newMigrateCommand(opts *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit (serve also applies them at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := opts.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			v, err := engine.Migrate(cmd.Context(), opts.engineConfig(log))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "database schema at version %d\n", v)
			return nil
		},
	}
}
