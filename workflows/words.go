package workflows

// How the release words what it shows: short enough for the UI's details
// pane and the notices.

// shortTime keeps the details short enough for the UI's details pane.
const shortTime = "2006-01-02 15:04 UTC"

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

// shortCommit is the first 7 characters of a commit.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}
