# Shortcuts; each target is a plain Go command (only Go 1.26 is needed).
#   make test     every test, then each fuzz target for 10s (what CI runs: .ci/run)
#   make faults   the fault-injection, hostile-input and secrets suites on the real stack, verbose
#   make cluster-faults  the fault suite on the cluster (PostgreSQL, four Temporal services, mTLS), full length
#   make trail-stress  releases through the cluster while PostgreSQL and history are SIGKILLed (CRASHES, MINUTES): head mismatches with their evidence
#   make soak     RELEASES releases (1000) through the cluster with a fault every few seconds, bounded by SOAK_MINUTES; figures and RSS (CI runs 30)
#   make repeat-cluster-faults  CI's short cluster fault suite RUNS times (20) in a row, stopping at the first failure
#   make fuzz     each fuzz target for FUZZTIME (default 1m)
#   make property the separation property test with more cases (CASES, SEED)
FUZZTIME ?= 1m
CASES ?= 5000
SEED ?= 1
CRASHES ?= 200
MINUTES ?= 25
RELEASES ?= 1000
SOAK_MINUTES ?= 90
INFLIGHT ?= 8
RUNS ?= 20

.PHONY: test faults cluster-faults trail-stress soak repeat-cluster-faults fuzz property

test:
	go run ./stack test

faults:
	go test -count=1 -v -timeout 20m -run 'TestRealStack|TestForeignCatchesLeaks' ./e2e/faults

# CI runs a short version (1 role round, 3 crash rounds of 6 releases).
cluster-faults:
	FOUREYES_FAULT_STRICT_HEADS=1 FOUREYES_CLUSTER_FAULT_ROUNDS=4 FOUREYES_CLUSTER_CRASH_ROUNDS=6 go test -count=1 -v -timeout 30m -run TestClusterFaults ./e2e/faults

trail-stress:
	FOUREYES_TRAIL_STRESS=1 FOUREYES_TRAIL_STRESS_CRASHES=$(CRASHES) FOUREYES_TRAIL_STRESS_MINUTES=$(MINUTES) FOUREYES_TRAIL_STRESS_INFLIGHT=16 go test -count=1 -v -timeout 60m -run TestTrailStress ./e2e/faults

# No release starts after SOAK_MINUTES; the ones in flight end (5 min at most each), then every
# release is checked (about a minute per 200).
soak:
	FOUREYES_SOAK_RELEASES=$(RELEASES) FOUREYES_SOAK_MINUTES=$(SOAK_MINUTES) FOUREYES_SOAK_INFLIGHT=$(INFLIGHT) go test -count=1 -v -timeout $$(($(SOAK_MINUTES)+30))m -run TestSoak ./e2e/faults

repeat-cluster-faults:
	.ci/repeat-cluster-faults $(RUNS)

fuzz:
	FOUREYES_FUZZTIME=$(FUZZTIME) go run ./stack test -run='^$$'

property:
	FOUREYES_PROPERTY_CASES=$(CASES) FOUREYES_PROPERTY_SEED=$(SEED) go test -count=1 -v -run TestSeparationProperty ./workflows
