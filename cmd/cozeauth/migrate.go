package main

import (
	"github.com/spf13/cobra"

	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

func newMigrate() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sqlstore.Open(cmd.Context(), dsn)
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			return printJSON(cmd, map[string]any{"schema_version": v})
		},
	}
	cmd.Flags().StringVar(&dsn, "db", "cozeauth.db", "database: a SQLite file path, sqlite:PATH, or postgres://…")
	return cmd
}
