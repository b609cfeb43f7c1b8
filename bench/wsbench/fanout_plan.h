// fanout_plan: the fanout mode's plan (plan.h): subscriber workers, the publisher as the
// extra worker, the schedule, and the per-step report.
#pragma once

#include <memory>

#include "plan.h"

namespace wsbench {

std::unique_ptr<plan> make_fanout_plan();

}  // namespace wsbench
