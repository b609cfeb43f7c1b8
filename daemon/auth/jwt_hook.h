// jwt_hook: SPEC §5's `jwt` auth as an auth_hook: finds the token where the route says
// (auth/token_source), verifies it locally (auth/jwt_verifier, built by the config loader) and
// answers at once. A missing or bad token is a 401 whose body never says why; the why goes to
// the (rate-limited) log and the refusal to wsgate_auth_requests_total{result="denied"}.
#pragma once

#include "auth/auth_hook.h"
#include "config/gateway_config.h"

namespace wsgated::auth {

class jwt_hook final : public auth_hook {
public:
    explicit jwt_hook(const config::auth_jwt_config& cfg) : cfg_(cfg) {}
    void check(const auth_input& in, auth_callback cb) override;

private:
    const config::auth_jwt_config& cfg_;  // lives in the snapshot's config, as this hook does
};

}  // namespace wsgated::auth
