// Package workflows holds the Release workflow: four separated duties (code,
// review, approve, deploy), each an activity on its own role's task queue,
// with policy gates between them that move only on signals. Its contract
// with the other processes (names, request, result and query types) is
// package api.
package workflows
