// The files that foureyes and its Temporal server (temporal-server/, its
// own module) both read, written once: yamlfile decodes a YAML file
// strictly and names the field and line of every error; authzconfig is the
// server's authorization file. Its own module, with no dependency but
// yaml.v3, so that both modules require it (by a replace of this folder)
// without requiring each other.
module github.com/foureyes/foureyes/formats

go 1.26.8

require gopkg.in/yaml.v3 v3.0.1
