package faults

import "testing"

func hostile(t *testing.T, s *stackT) {}
