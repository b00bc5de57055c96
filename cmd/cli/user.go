package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newUserCommand(opts *Options) *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage accounts"}
	var email, password, role string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an account",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, _, err := opts.openEngine(cmd)
			if err != nil {
				return err
			}
			defer eng.Close()
			u, err := eng.CreateUser(cmd.Context(), email, password, role)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s user %s (%s)\n", u.Role, u.Email, u.ID)
			return nil
		},
	}
	create.Flags().StringVar(&email, "email", "", "email address (required)")
	create.Flags().StringVar(&password, "password", "", "password, at least 8 characters (required)")
	create.Flags().StringVar(&role, "role", "admin", "role: admin, editor or viewer")
	_ = create.MarkFlagRequired("email")
	_ = create.MarkFlagRequired("password")
	user.AddCommand(create, newUserListCommand(opts))
	return user
}

func newTokenCommand(opts *Options) *cobra.Command {
	token := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var email, name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token for a user and print it (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, _, err := opts.openEngine(cmd)
			if err != nil {
				return err
			}
			defer eng.Close()
			tok, err := eng.CreateToken(cmd.Context(), email, name)
			if err != nil {
				return fmt.Errorf("create token for %s: %w", email, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	create.Flags().StringVar(&email, "email", "", "the user's email (required)")
	create.Flags().StringVar(&name, "name", "", "a label for the token")
	_ = create.MarkFlagRequired("email")
	token.AddCommand(create, newTokenListCommand(opts), newTokenRevokeCommand(opts))
	return token
}
