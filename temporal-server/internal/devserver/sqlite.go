package devserver

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/headers"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

// sqlConfig is the SQLite store of file, set up on first use: the schema of
// this server version, then the namespace with its search attributes. A file
// made by another server version (e.g. the CLI v1.5.1's dev server, Temporal
// 1.29) is refused: SQLite files are never migrated.
func sqlConfig(file string, pragmas map[string]string, namespace, cluster string,
	attrs map[string]enumspb.IndexedValueType) (*config.SQL, bool, error) {
	conf := &config.SQL{PluginName: sqliteplugin.PluginName, DatabaseName: file,
		ConnectAttributes: map[string]string{"mode": "rwc"}}
	for k, v := range pragmas {
		conf.ConnectAttributes[k] = v
	}
	created := false
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, false, err
		}
		if err := sqliteschema.SetupSchema(conf); err != nil {
			os.Remove(file)
			return nil, false, fmt.Errorf("%s: setting up the schema: %w", file, err)
		}
		created = true
	} else if err != nil {
		return nil, false, err
	} else if err := checkSchema(file); err != nil {
		return nil, false, err
	}
	ns, err := sqliteschema.NewNamespaceConfig(cluster, namespace, false, attrs)
	if err != nil {
		return nil, false, err
	}
	if err := sqliteschema.CreateNamespaces(conf, ns); err != nil {
		return nil, false, fmt.Errorf("%s: creating namespace %s: %w", file, namespace, err)
	}
	return conf, created, nil
}

// checkSchema finds what the schema of Temporal 1.32 added to SQLite (over
// 1.29's): the current_chasm_executions table and the pre-allocated
// TemporalKeywordList01 visibility column.
func checkSchema(file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer db.Close()
	var tables, columns int
	err = db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'current_chasm_executions'`).Scan(&tables)
	if err == nil {
		err = db.QueryRow(`SELECT count(*) FROM pragma_table_xinfo('executions_visibility') WHERE name = 'TemporalKeywordList01'`).Scan(&columns)
	}
	if err != nil {
		return fmt.Errorf("%s: not a Temporal SQLite database: %w", file, err)
	}
	if tables != 1 || columns != 1 {
		return fmt.Errorf("%s: made by an older Temporal server (e.g. the CLI's dev server, Temporal 1.29): "+
			"its schema lacks what Temporal %s needs and SQLite files are not migrated; move it away to start afresh",
			file, headers.ServerVersion)
	}
	return nil
}
