module github.com/foureyes/foureyes

go 1.26.8

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/sethvargo/go-envconfig v1.4.3 // indirect
	github.com/slack-go/slack v0.35.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.temporal.io/sdk v1.51.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
