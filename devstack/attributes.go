package devstack

import "github.com/foureyes/foureyes/workflows"

// searchAttributeArgs registers the Release workflow's search attributes on
// every dev server started here: the workflow upserts them, and a server
// without them fails its workflow tasks.
func searchAttributeArgs() []string {
	var args []string
	for _, nameType := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", nameType)
	}
	return args
}
