// exposition: see exposition.h.
#include "metrics/exposition.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace wsgated::metrics {

std::string serialize(const std::vector<prometheus::MetricFamily>& families) {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return std::move(out).str();
}

}  // namespace wsgated::metrics
