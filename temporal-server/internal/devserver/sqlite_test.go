package devserver

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// The child process of TestSchemaCheckAfterAKilledWrite: it opens the
// database with a one-page cache, writes enough to spill pages into the
// file (so that the rollback journal is hot), and is killed before it
// commits.
func init() {
	file := os.Getenv("FOUREYES_TEST_SQLITE_WRITER")
	if file == "" {
		return
	}
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=cache_size(1)&_pragma=journal_mode(delete)")
	if err == nil {
		db.SetMaxOpenConns(1)
		_, err = db.Exec(`BEGIN; UPDATE executions_visibility SET memo = randomblob(4000); `)
	}
	if err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(2)
	}
	os.Stdout.WriteString("inside\n")
	select {} // killed here
}

// A server SIGKILLed inside a write leaves a hot journal; the next start
// must still find the schema (the read-only check could not roll it back and
// refused the file as "not a Temporal SQLite database").
func TestSchemaCheckAfterAKilledWrite(t *testing.T) {
	file := filepath.Join(t.TempDir(), "temporal.db")
	_, _, err := sqlConfig(file, nil, "default", "active", nil)
	require.NoError(t, err)
	fillVisibility(t, file, 200)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FOUREYES_TEST_SQLITE_WRITER="+file)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	buf := make([]byte, 7)
	_, err = out.Read(buf)
	require.NoError(t, err, "the writer did not reach its transaction")
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	_, err = os.Stat(file + "-journal")
	require.NoError(t, err, "the killed writer left no journal: the test would prove nothing")
	require.NoError(t, checkSchema(file))
}

// fillVisibility writes n visibility rows so that an update of all of them
// spills out of a one-page cache.
func fillVisibility(t *testing.T, file string, n int) {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw")
	require.NoError(t, err)
	defer db.Close()
	for i := 0; i < n; i++ {
		_, err := db.Exec(`INSERT INTO executions_visibility (namespace_id, run_id, start_time, execution_time,
			workflow_id, workflow_type_name, status, history_length, history_size_bytes, memo, encoding)
			VALUES ('ns', ?, '2026-01-01', '2026-01-01', 'w', 't', 1, 1, 1, randomblob(100), 'proto3')`, i)
		require.NoError(t, err)
	}
}
