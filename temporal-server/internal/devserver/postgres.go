package devserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the postgres12 plugin
	"go.temporal.io/server/tools/common/schema"
	"go.temporal.io/server/tools/sql"
)

// PostgresOptions name the PostgreSQL server and the two databases of a
// cluster: the default store (histories, tasks, namespaces) and visibility.
type PostgresOptions struct {
	Addr         string // host:port
	User         string
	PasswordFile string // "" for none (trust / peer authentication)
	Database     string // default store, e.g. temporal
	Visibility   string // visibility store, e.g. temporal_visibility
	MaxConns     int
}

// Plugin is Temporal's SQL plugin for PostgreSQL 12 and later.
const Plugin = "postgres12"

func (p PostgresOptions) check() error {
	if p.Addr == "" || p.User == "" || p.Database == "" || p.Visibility == "" {
		return errors.New("PostgreSQL: --postgres-addr, --postgres-user, --postgres-db and --postgres-visibility-db are required")
	}
	if _, _, err := net.SplitHostPort(p.Addr); err != nil {
		return fmt.Errorf("PostgreSQL: --postgres-addr %q: want HOST:PORT", p.Addr)
	}
	if p.Database == p.Visibility {
		return fmt.Errorf("PostgreSQL: the default store and visibility need two databases, both are %q", p.Database)
	}
	return nil
}

func (p PostgresOptions) password() (string, error) {
	if p.PasswordFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(p.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("PostgreSQL password: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// sqlConf is the SQL store of one database.
func (p PostgresOptions) sqlConf(db, password string) *config.SQL {
	max := p.MaxConns
	if max == 0 {
		max = 20
	}
	return &config.SQL{PluginName: Plugin, DatabaseName: db, ConnectAddr: p.Addr, ConnectProtocol: "tcp",
		User: p.User, Password: password, MaxConns: max, MaxIdleConns: max, MaxConnLifetime: time.Hour}
}

// persistence is the cluster's config.Persistence: both stores on p.
func (p PostgresOptions) persistence(shards int32) (config.Persistence, error) {
	pw, err := p.password()
	if err != nil {
		return config.Persistence{}, err
	}
	return config.Persistence{
		DefaultStore: "postgres-default", VisibilityStore: "postgres-visibility", NumHistoryShards: shards,
		DataStores: map[string]config.DataStore{
			"postgres-default":    {SQL: p.sqlConf(p.Database, pw)},
			"postgres-visibility": {SQL: p.sqlConf(p.Visibility, pw)},
		},
	}, nil
}

// SetupPostgres creates both databases when missing and brings their schema
// to this server version with temporal-sql-tool's code (create-database,
// setup-schema -v 0.0, update-schema --schema-name ...). Run again, it
// changes nothing; on a database of an older server version it applies the
// versions it lacks.
func SetupPostgres(p PostgresOptions) error {
	if err := p.check(); err != nil {
		return err
	}
	pw, err := p.password()
	if err != nil {
		return err
	}
	for _, db := range []struct{ name, schema string }{
		{p.Database, "postgresql/v12/temporal"}, {p.Visibility, "postgresql/v12/visibility"}} {
		if err := migrate(p.sqlConf(db.name, pw), db.schema); err != nil {
			return err
		}
	}
	return nil
}

// migrate runs what `temporal-sql-tool setup-schema -v 0.0` and
// `update-schema --schema-name NAME` run (the tool's own tasks, its schemas
// embedded in this binary), quietly: their log says only what failed.
func migrate(c *config.SQL, schemaName string) error {
	if err := createDatabase(*c); err != nil {
		return err
	}
	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "error", Format: "json"}))
	conn, err := sql.NewConnection(c, logger)
	if err != nil {
		return fmt.Errorf("database %s at %s: %w", c.DatabaseName, c.ConnectAddr, err)
	}
	defer conn.Close()
	if err := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run(); err != nil {
		return fmt.Errorf("temporal-sql-tool setup-schema on %s at %s: %w", c.DatabaseName, c.ConnectAddr, err)
	}
	if err := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{SchemaName: schemaName}, logger).Run(); err != nil {
		return fmt.Errorf("temporal-sql-tool update-schema --schema-name %s on %s at %s: %w", schemaName, c.DatabaseName, c.ConnectAddr, err)
	}
	return nil
}

// createDatabase is temporal-sql-tool's create-database, where a database
// that exists already is no error (a second run reuses the data).
func createDatabase(c config.SQL) error {
	name := c.DatabaseName
	err := sql.DoCreateDatabase(&c, "postgres", log.NewNoopLogger())
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("temporal-sql-tool create-database %s at %s: %w", name, c.ConnectAddr, err)
	}
	return nil
}
