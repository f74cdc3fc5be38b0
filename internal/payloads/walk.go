// Package payloads walks the payloads of a Temporal message.
package payloads

import (
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// EachEncoded calls fn with every payload in m that a data converter
// encodes: all but search attributes (plaintext by design: the UI and CLI
// query them) and headers (trace context, no release data).
func EachEncoded(m protoreflect.Message, fn func(*commonpb.Payload)) {
	switch v := m.Interface().(type) {
	case *commonpb.Payload:
		fn(v)
		return
	case *commonpb.SearchAttributes, *commonpb.Header:
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool { EachEncoded(mv.Message(), fn); return true })
			}
		case fd.IsList():
			if fd.Message() != nil {
				for i := range v.List().Len() {
					EachEncoded(v.List().Get(i).Message(), fn)
				}
			}
		case fd.Message() != nil:
			EachEncoded(v.Message(), fn)
		}
		return true
	})
}
