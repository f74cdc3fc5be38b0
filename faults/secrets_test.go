package faults

import "testing"

func secrets(t *testing.T, s *stackT) {}
