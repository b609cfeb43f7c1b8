// schema_walk: checks a parsed YAML tree against the schema table and records every value in a
// document — the generic half of loading, the same for every key.
//
// Reports unknown and duplicate keys (at the key), wrong kinds and bad scalars (at the value),
// keys not valid for the map's `type`, and missing required keys (at the map). Expands ${VAR}
// in every scalar value before typing it, and walks the schema's defaults for absent keys the
// same way, so a default that did not parse would be an error too. Runs inside one load.
#pragma once

#include <yaml-cpp/yaml.h>

#include "loader/document.h"
#include "loader/error_list.h"
#include "loader/loader.h"

namespace wsgated::config {

// yaml-cpp's marks are 0-based; ours are 1-based, and line 0 means "no place in the file".
source_mark to_source_mark(const YAML::Mark& m);

// `root` must be a map (the loader checks). Never throws.
void walk_schema(const YAML::Node& root, const env_lookup& env, document& doc,
                 error_list& errors);

}  // namespace wsgated::config
