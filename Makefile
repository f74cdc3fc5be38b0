# Shortcuts; each target is a plain Go command (only Go 1.26 is needed).
#   make test     every test, then each fuzz target for 10s (what CI runs: .ci/run)
#   make faults   the fault-injection, hostile-input and secrets suites on the real stack, verbose
#   make fuzz     each fuzz target for FUZZTIME (default 1m)
#   make property the separation property test with more cases (CASES, SEED)
FUZZTIME ?= 1m
CASES ?= 5000
SEED ?= 1

.PHONY: test faults fuzz property

test:
	go run ./stack test

faults:
	go test -count=1 -v -timeout 20m -run 'TestRealStack|TestForeignCatchesLeaks' ./faults

fuzz:
	FOUREYES_FUZZTIME=$(FUZZTIME) go run ./stack test -run='^$$'

property:
	FOUREYES_PROPERTY_CASES=$(CASES) FOUREYES_PROPERTY_SEED=$(SEED) go test -count=1 -v -run TestSeparationProperty ./workflows
