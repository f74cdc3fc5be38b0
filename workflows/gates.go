package workflows

import (
	"fmt"
	"strings"

	"github.com/foureyes/foureyes/api"
)

// gates are every gate a release opened, in order, and the outcome of
// every decision it judged: each gate keeps those that named it, gates
// keeps those that named no gate it opened.
type gates struct {
	current     *gate                          // the open (or last) gate; nil before the first
	all         []*gate                        // every gate opened, in order
	earlier     []string                       // identities that signed a closed gate
	misdirected map[string]api.DecisionOutcome // looked up, never iterated
}

// add makes g the current gate.
func (gs *gates) add(g *gate) {
	gs.current = g
	gs.all = append(gs.all, g)
}

// close ends a gate: its signers become earlier signers for later gates.
func (gs *gates) close(g *gate) {
	if g.open() {
		g.state = api.GateClosed
	}
	gs.earlier = append(gs.earlier, g.signerIDs()...)
}

// outcome is the first outcome of a request id, whichever gate it named.
func (gs *gates) outcome(requestID string) (api.DecisionOutcome, bool) {
	for _, g := range gs.all {
		if o, ok := g.outcomes[requestID]; ok {
			return o, true
		}
	}
	o, ok := gs.misdirected[requestID]
	return o, ok
}

// keep leaves an outcome with the gate its decision named, or apart when it
// named no gate the release opened.
func (gs *gates) keep(o api.DecisionOutcome) {
	for _, g := range gs.all {
		if g.name == o.Gate {
			g.keep(o)
			return
		}
	}
	gs.misdirected[o.RequestID] = o
}

// outcomeView answers QueryDecision: a request's outcome with the state of
// its gate when that gate is the current one.
func (gs *gates) outcomeView(requestID string) (api.DecisionOutcome, error) {
	o, ok := gs.outcome(requestID)
	if !ok {
		return api.DecisionOutcome{RequestID: requestID, Outcome: api.OutcomePending}, nil
	}
	if g := gs.current; g != nil && g.name == o.Gate {
		o.GateState = g.state
	}
	return o, nil
}

// signedLine lists every accepted decision, gate by gate (the audit trail
// has the times and comments).
func (gs *gates) signedLine() string {
	var parts []string
	for _, g := range gs.all {
		for _, s := range g.signed {
			parts = append(parts, fmt.Sprintf("%s %sd %s via %s", s.Identity, s.Verdict, g.name, s.Channel))
		}
	}
	return orNone(strings.Join(parts, ", "))
}
