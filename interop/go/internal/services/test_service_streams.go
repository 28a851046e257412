package services

import (
	"google.golang.org/grpc"

	"interopmatrix/gen/grpctesting"
	"interopmatrix/internal/faults"
)

func (s *testService) StreamingOutputCall(req *grpctesting.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[grpctesting.StreamingOutputCallResponse]) error {
	if err := s.respond(newResponseSender(stream), req, true); err != nil {
		return err
	}
	if s.faults.Has(faults.TestingStreamStatusOK) {
		return nil
	}
	return echoedStatus(s.faults, req.GetResponseStatus())
}

func (s *testService) StreamingInputCall(stream grpc.ClientStreamingServer[grpctesting.StreamingInputCallRequest, grpctesting.StreamingInputCallResponse]) error {
	var total int32
	err := eachRequest(stream.Recv, func(req *grpctesting.StreamingInputCallRequest) error {
		if err := checkCompressed(stream.Context(), s.faults, req.GetExpectCompressed()); err != nil {
			return err
		}
		total += int32(len(req.GetPayload().GetBody()))
		return nil
	})
	if err != nil {
		return err
	}
	if s.faults.Has(faults.TestingAggregateOff) {
		total++
	}
	return stream.SendAndClose(&grpctesting.StreamingInputCallResponse{AggregatedPayloadSize: total})
}

// FullDuplexCall answers each request as it arrives; a request with response_status ends
// the call with that status.
func (s *testService) FullDuplexCall(stream grpc.BidiStreamingServer[grpctesting.StreamingOutputCallRequest, grpctesting.StreamingOutputCallResponse]) error {
	if s.faults.Has(faults.TestingDuplexBuffered) {
		return s.answerAfterHalfClose(stream, true)
	}
	sender := newResponseSender(stream)
	err := eachRequest(stream.Recv, func(req *grpctesting.StreamingOutputCallRequest) error {
		return s.answer(sender, req, true)
	})
	if err != nil {
		return err
	}
	if s.faults.Has(faults.TestingDuplexExtra) {
		return sender.send(&grpctesting.StreamingOutputCallResponse{Payload: &grpctesting.Payload{}}, false)
	}
	return nil
}

// HalfDuplexCall buffers the requests until the client half-closes, then answers them in order.
func (s *testService) HalfDuplexCall(stream grpc.BidiStreamingServer[grpctesting.StreamingOutputCallRequest, grpctesting.StreamingOutputCallResponse]) error {
	return s.answerAfterHalfClose(stream, false)
}

// answerAfterHalfClose reads every request, then answers them in order, as HalfDuplexCall
// does; fullDuplex tells which method's faults apply.
func (s *testService) answerAfterHalfClose(stream grpc.BidiStreamingServer[grpctesting.StreamingOutputCallRequest, grpctesting.StreamingOutputCallResponse], fullDuplex bool) error {
	var held []*grpctesting.StreamingOutputCallRequest
	err := eachRequest(stream.Recv, func(req *grpctesting.StreamingOutputCallRequest) error {
		held = append(held, req)
		return nil
	})
	if err != nil {
		return err
	}
	sender := newResponseSender(stream)
	for _, req := range held {
		if err := s.answer(sender, req, fullDuplex); err != nil {
			return err
		}
	}
	return nil
}

// answer is a duplex call's answer to one request: its echoed status ends the call, else
// its responses.
func (s *testService) answer(sender *responseSender, req *grpctesting.StreamingOutputCallRequest, fullDuplex bool) error {
	if err := echoedStatus(s.faults, req.GetResponseStatus()); err != nil {
		return err
	}
	return s.respond(sender, req, fullDuplex)
}

// respond sends the responses req's parameters ask for, in order, each after its interval.
// outputFaults tells whether the faults of StreamingOutputCall and FullDuplexCall
// (testing-stream-drop-last, testing-interval-ignored) apply to this method.
func (s *testService) respond(sender *responseSender, req *grpctesting.StreamingOutputCallRequest, outputFaults bool) error {
	if err := checkResponseType(req.GetResponseType()); err != nil {
		return err
	}
	params := req.GetResponseParameters()
	if outputFaults && s.faults.Has(faults.TestingStreamDropLast) && len(params) >= 2 {
		params = params[:len(params)-1]
	}
	for _, p := range params {
		if p.GetCompressed().GetValue() {
			sender.expectCompressed() // before the first response carries the headers out
		}
	}
	for _, p := range params {
		interval := p.GetIntervalUs()
		if outputFaults && s.faults.Has(faults.TestingIntervalIgnored) {
			interval = 0
		}
		if err := sleepMicros(sender.stream.Context(), interval); err != nil {
			return err
		}
		payload, err := newPayload(req.GetResponseType(), p.GetSize())
		if err != nil {
			return err
		}
		if err := sender.send(&grpctesting.StreamingOutputCallResponse{Payload: payload}, p.GetCompressed().GetValue()); err != nil {
			return err
		}
	}
	return nil
}
