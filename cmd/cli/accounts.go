package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
)

// Output formats of the listing commands.
const (
	outputText = "text"
	outputJSON = "json"
)

func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", outputText, "output format: text or json")
}

// printList writes v as indented JSON, or calls text with an aligned-column writer.
func printList(w io.Writer, output string, v any, text func(tw *tabwriter.Writer)) error {
	switch output {
	case outputJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case outputText:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		text(tw)
		return tw.Flush()
	}
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("unknown output format %q: use text or json", output)}
}

// when formats an optional time for the text tables.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func newUserListCommand(opts *Options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, _, err := opts.openEngine(cmd)
			if err != nil {
				return err
			}
			defer eng.Close()
			us, err := eng.ListUsers(cmd.Context())
			if err != nil {
				return fmt.Errorf("list users: %w", err)
			}
			return printList(cmd.OutOrStdout(), output, us, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tEMAIL\tROLE\tCREATED\tDISABLED")
				for _, u := range us {
					created := u.CreatedAt
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, when(&created), when(u.DisabledAt))
				}
			})
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}

func newTokenListCommand(opts *Options) *cobra.Command {
	var output, email string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never the tokens themselves), of every user or of --email",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, _, err := opts.openEngine(cmd)
			if err != nil {
				return err
			}
			defer eng.Close()
			ts, err := eng.ListTokens(cmd.Context(), engine.TokenFilter{Email: email, All: email == ""})
			if err != nil {
				return fmt.Errorf("list tokens: %w", err)
			}
			return printList(cmd.OutOrStdout(), output, ts, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tTOKEN\tCREATED\tLAST USED\tEXPIRES\tREVOKED")
				for _, t := range ts {
					created := t.CreatedAt
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Email, t.Name, t.Hint,
						when(&created), when(t.LastUsedAt), when(t.ExpiresAt), when(t.RevokedAt))
				}
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "only this user's tokens")
	addOutputFlag(cmd, &output)
	return cmd
}

func newTokenRevokeCommand(opts *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token: it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, _, err := opts.openEngine(cmd)
			if err != nil {
				return err
			}
			defer eng.Close()
			t, err := eng.RevokeToken(cmd.Context(), args[0])
			if err != nil {
				return fmt.Errorf("revoke token %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s (%s) at %s\n", t.ID, t.Name, when(t.RevokedAt))
			return nil
		},
	}
}
