// gateway_metrics: every metric of SPEC §7, declared in one list, with its registry.
//
// One per daemon, owned by server and handed by reference to whoever counts (workers,
// sessions, backends, hub, cluster, admin); it outlives all of them. Code counts where the
// event happens: `metrics_.heartbeat_timeouts.inc()` for an unlabelled metric, and for a
// labelled one it looks the cell up once (per connection, route or backend) and keeps it:
//     metrics::counter& received = metrics_.messages_received.with({route_pattern});
//     received.inc();   // per message: one relaxed atomic add, no lock, no allocation
// Label values must come from a small fixed set (route *patterns*, backend names from the
// config, our own reason words) — never a concrete path, user or room: every distinct value
// is a cell kept for the life of the daemon, and a series in Prometheus.
#pragma once

#include <array>
#include <string>

#include "metrics/process_metrics.h"
#include "metrics/registry.h"

namespace wsgated::metrics {

// Bucket upper bounds in seconds (docs/metrics.md explains the choice).
// Backend calls: from a fast local backend (0.5 ms) up to a request timeout (10 s).
inline constexpr std::array<double, 14> latency_buckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
// Ping round trips: from loopback (0.1 ms) up to half the default heartbeat timeout (5 s).
inline constexpr std::array<double, 15> rtt_buckets{
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

// THE list. Columns: member, exported name, help, then the buckets (histograms) and the label
// names (families). X(member, …) entries become typed members of gateway_metrics:
//   COUNTER → counter&            COUNTER_FAMILY → counter_family&
//   GAUGE → gauge&                GAUGE_FAMILY → gauge_family&
//   HISTOGRAM → histogram&        HISTOGRAM_FAMILY → histogram_family&
// Exposed in this order. Add a metric here and in docs/metrics.md, nowhere else.
#define WSGATED_GATEWAY_METRICS(COUNTER, COUNTER_FAMILY, GAUGE, GAUGE_FAMILY, HISTOGRAM,        \
                                HISTOGRAM_FAMILY)                                              \
    GAUGE_FAMILY(connections, "wsgate_connections", "Open WebSocket connections.", "route")     \
    COUNTER_FAMILY(connections_total, "wsgate_connections_total",                              \
                   "WebSocket connections accepted (upgrade completed).", "route")             \
    COUNTER_FAMILY(handshake_failures, "wsgate_handshake_failures_total",                      \
                   "Upgrade requests that did not become a WebSocket connection.", "reason")   \
    COUNTER_FAMILY(messages_received, "wsgate_messages_received_total",                        \
                   "WebSocket messages received from clients.", "route")                       \
    COUNTER_FAMILY(messages_sent, "wsgate_messages_sent_total",                                \
                   "WebSocket messages written to clients.", "route")                          \
    COUNTER(bytes_received, "wsgate_bytes_received_total",                                     \
            "Payload bytes of WebSocket messages received from clients.")                      \
    COUNTER(bytes_sent, "wsgate_bytes_sent_total",                                             \
            "Payload bytes of WebSocket messages written to clients.")                         \
    COUNTER_FAMILY(backend_requests, "wsgate_backend_requests_total",                          \
                   "Events delivered to backends, by outcome.", "backend", "outcome")          \
    COUNTER_FAMILY(backend_backlog_pauses, "wsgate_backend_backlog_pauses_total",              \
                   "Times a connection's backend backlog filled and its socket stopped being "  \
                   "read (TCP backpressure).", "backend")                                      \
    COUNTER_FAMILY(backend_protocol_errors, "wsgate_backend_protocol_errors_total",            \
                   "Stream backend frames that broke the framing (the stream is reconnected) or "\
                   "could not apply (skipped), by reason.", "backend", "reason")               \
    GAUGE_FAMILY(backend_streams, "wsgate_backend_streams",                                    \
                 "Workers whose stream to the backend is connected.", "backend")               \
    COUNTER_FAMILY(backend_stream_connects, "wsgate_backend_stream_connects_total",            \
                   "Stream backend connection attempts and losses, by result (ok, failed, "     \
                   "lost).", "backend", "result")                                              \
    HISTOGRAM_FAMILY(backend_request_duration, "wsgate_backend_request_duration_seconds",      \
                     "Time from sending an event to a backend to its answer.",                 \
                     latency_buckets, "backend")                                               \
    COUNTER_FAMILY(auth_requests, "wsgate_auth_requests_total",                                \
                   "Handshake authentications (auth hook or JWT), by result.", "result")       \
    COUNTER(heartbeat_timeouts, "wsgate_heartbeat_timeouts_total",                             \
            "Connections closed because no pong or data arrived within the heartbeat timeout.") \
    COUNTER(slow_consumer_closes, "wsgate_slow_consumer_closes_total",                         \
            "Connections closed 1008 because their send queue passed its limit.")              \
    COUNTER_FAMILY(client_errors, "wsgate_client_errors_total",                                 \
                   "Connections failed for what the client sent: protocol (closed 1002), "     \
                   "invalid_data (text not UTF-8 or data that does not inflate, 1007), too_big "\
                   "(over max_message_size, 1009).", "reason")                                 \
    COUNTER(rate_limited, "wsgate_rate_limited_total",                                         \
            "Client messages over messages_per_second (closed or dropped, per the route).")    \
    GAUGE(rooms, "wsgate_rooms", "Rooms with at least one member on this node.")              \
    COUNTER(room_publishes, "wsgate_room_publishes_total",                                     \
            "Messages published to a room on this node (control API or backend).")            \
    COUNTER_FAMILY(config_reloads, "wsgate_config_reloads_total",                              \
                   "Configuration reloads (SIGHUP), by result.", "result")                     \
    HISTOGRAM(ping_rtt, "wsgate_ping_rtt_seconds",                                             \
              "Heartbeat round-trip time, ping sent to pong received.", rtt_buckets)           \
    COUNTER_FAMILY(messages_dropped, "wsgate_messages_dropped_total",                          \
                   "Messages not delivered, by reason.", "reason")                             \
    GAUGE(cluster_connected, "wsgate_cluster_connected",                                       \
          "1 while this node is connected to the cluster broker (Redis), else 0.")             \
    COUNTER_FAMILY(cluster_messages, "wsgate_cluster_messages_total",                          \
                   "Messages this node published to Redis (out) or received from it (in).",   \
                   "direction")                                                                \
    COUNTER(cluster_publish_failures, "wsgate_cluster_publish_failures_total",                 \
            "Calls for other nodes that could not travel (Redis down or not answering).")     \
    COUNTER(cluster_reconnects, "wsgate_cluster_reconnects_total",                             \
            "Connections to Redis lost and attempted again.")                                  \
    COUNTER_FAMILY(cluster_redirects, "wsgate_cluster_redirects_total",                        \
                   "Redis Cluster answers that sent a command to another master (moved, ask).", "kind") \
    GAUGE(cluster_nodes, "wsgate_cluster_nodes",                                               \
          "Nodes of the cluster seen alive, this one included (1 without a cluster).")

class gateway_metrics {
    // Declared first: every member below is a reference into it, initialised in order.
    registry registry_;

public:
    // `slots`: 1 + the number of workers, each of which counts into its own slot
    // (metrics::set_thread_slot); tests keep the default.
    explicit gateway_metrics(unsigned slots = 1);
    gateway_metrics(const gateway_metrics&) = delete;
    gateway_metrics& operator=(const gateway_metrics&) = delete;

#define WSGATED_M_COUNTER(member, name, help) counter& member;
#define WSGATED_M_COUNTER_FAMILY(member, name, help, ...) counter_family& member;
#define WSGATED_M_GAUGE(member, name, help) gauge& member;
#define WSGATED_M_GAUGE_FAMILY(member, name, help, ...) gauge_family& member;
#define WSGATED_M_HISTOGRAM(member, name, help, buckets) histogram& member;
#define WSGATED_M_HISTOGRAM_FAMILY(member, name, help, buckets, ...) histogram_family& member;
    WSGATED_GATEWAY_METRICS(WSGATED_M_COUNTER, WSGATED_M_COUNTER_FAMILY, WSGATED_M_GAUGE,
                            WSGATED_M_GAUGE_FAMILY, WSGATED_M_HISTOGRAM,
                            WSGATED_M_HISTOGRAM_FAMILY)
#undef WSGATED_M_COUNTER
#undef WSGATED_M_COUNTER_FAMILY
#undef WSGATED_M_GAUGE
#undef WSGATED_M_GAUGE_FAMILY
#undef WSGATED_M_HISTOGRAM
#undef WSGATED_M_HISTOGRAM_FAMILY

    // The whole `GET /metrics` body (text format 0.0.4, see exposition.h): every metric above,
    // then the process_* metrics read now. Runs on the admin thread; safe while workers count.
    std::string scrape() const;

private:
    mutable process_collector process_;  // its registry is set from /proc at each scrape
};

}  // namespace wsgated::metrics
