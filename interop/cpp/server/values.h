// The value faults of the scripted service (scripted-int64-double … scripted-repeated-truncated,
// scripted-unknown-dropped), applied to the values of every response the server sends.
#pragma once

#include "faults.h"
#include "interop/scripted.pb.h"

namespace interop {

// values with the value faults of faults applied (values itself when none is on).
scripted::Values FaultyValues(const scripted::Values& values, const Faults& faults);

}  // namespace interop
