package cases

// reflectionListV1: grpc.reflection.v1's list_services lists every served service, and the
// stream ends OK after the half-close.
func reflectionListV1(t Target) error { return reflectionList(t, reflectionV1) }

// reflectionListV1alpha: the same through grpc.reflection.v1alpha.
func reflectionListV1alpha(t Target) error { return reflectionList(t, reflectionV1alpha) }

func reflectionList[Req, Resp any](t Target, api reflectionAPI[Req, Resp]) error {
	return api.onStream(t, func(r reflectionStream[Req, Resp]) error {
		names, err := r.listServices()
		if err != nil {
			return err
		}
		if err := expectIncludes(r.call(listServicesRequest)+": services", servedServices, names); err != nil {
			return err
		}
		return r.end()
	})
}
