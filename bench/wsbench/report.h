// report: the JSON object wsbench prints (README.md "JSON output"): the common fields here,
// the mode's own through plan::write_extra.
#pragma once

#include <string>

#include "plan.h"

namespace wsbench {

std::string write_report(const run_context& rc, const plan& p, const run_result& r);

}  // namespace wsbench
