package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookflow/hookflow/engine"
)

func newBackupCommand(opts *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite database and its manifest to FILE (tar.gz), while the server runs",
		Long: "Write a consistent copy of the SQLite database and its manifest to FILE, a tar.gz archive, while the server keeps " +
			"taking webhooks. The secret key is not in it: back it up separately. PostgreSQL: use pg_dump and hookflow export (docs/backup.md).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Decided from the URL, before connecting: pg_dump is the tool for PostgreSQL.
			if engine.IsPostgresURL(opts.DatabaseURL) {
				return &ExitError{Code: ExitFailure, Err: engine.ErrBackupPostgres}
			}
			eng, _, err := opts.openEngine(cmd)
			if err != nil {
				return err
			}
			defer eng.Close()
			m, err := eng.Backup(cmd.Context(), args[0])
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Backup written to %s: %d workflows, %d connections, %d events, %d runs; schema %d; secret key fingerprint %s\n",
				args[0], m.Counts.Workflows, m.Counts.Connections, m.Counts.Events, m.Counts.Runs, m.MigrationVersion, m.KeyFingerprint)
			fmt.Fprintln(cmd.OutOrStdout(), "The secret key is not in the backup: keep a copy of it apart (docs/backup.md).")
			return nil
		},
	}
}

func newRestoreCommand(opts *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the SQLite database with the one in a backup FILE; the server must be stopped",
		Long: "Replace the SQLite database with the one in a backup FILE made by hookflow backup. It refuses while a process has " +
			"the database open, when the archive's checksum does not match, and when the configured secret key is not the backed-up " +
			"install's. The replaced database is kept as NAME.before-restore-TIMESTAMP.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := opts.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			res, err := engine.Restore(cmd.Context(), opts.engineConfig(log), args[0])
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			m := res.Manifest
			fmt.Fprintf(cmd.OutOrStdout(), "Restored %s from the backup of %s: %d workflows, %d connections, %d events, %d runs\n",
				res.Database, m.CreatedAt.Format(time.RFC3339), m.Counts.Workflows, m.Counts.Connections, m.Counts.Events, m.Counts.Runs)
			if res.Previous != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "The database it replaced is kept as %s\n", res.Previous)
			}
			return nil
		},
	}
}

func newExportCommand(opts *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "export DIR|FILE|-",
		Short: "Write the definitions (workflows, connections without secret values, connector files) as one JSON document",
		Long: "Write the definitions as one JSON document: workflows with their current definition, connections with the names of " +
			"their set secrets but never the values, and uploaded connector files. Works on SQLite and PostgreSQL; with pg_dump it is " +
			"the PostgreSQL backup (docs/backup.md). A directory receives hookflow-export-TIMESTAMP.json; - writes to standard output.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, _, err := opts.openEngine(cmd)
			if err != nil {
				return err
			}
			defer eng.Close()
			doc, err := eng.Export(cmd.Context())
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			data, err := json.MarshalIndent(doc, "", "  ")
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("encode export: %w", err)}
			}
			data = append(data, '\n')
			target := args[0]
			if target == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if fi, err := os.Stat(target); err == nil && fi.IsDir() {
				target = filepath.Join(target, "hookflow-export-"+doc.CreatedAt.Format("20060102T150405Z")+".json")
			}
			// Connection settings may still be private (account names, URLs): owner only.
			if err := os.WriteFile(target, data, 0o600); err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("write export: %w", err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Exported %d workflows, %d connections and %d connector files to %s\n",
				len(doc.Workflows), len(doc.Connections), len(doc.ConnectorFiles), target)
			return nil
		},
	}
}
