//! Prometheus metrics at `GET /metrics` (text format): requests by route and status with
//! latency histograms, the job queue (depth, oldest wait, outcomes), the connection
//! pools (size, idle, acquire timeouts), where reads ran (`studyhall_reads_total`, and the
//! wait for the replica: `db::reads`) and maintenance results.
//!
//! Counters and histograms are recorded as things happen, through the `metrics` facade;
//! gauges that describe the database (queue depth, pools) are read when scraped.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;
use crate::jobs;

/// Request latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().set_buckets(&BUCKETS).expect("buckets are given").build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already; /metrics shows only what this one sees");
        }
        handle
    })
}

/// Counts every request and times it, by method, route (the matched pattern, never the
/// raw path: ids would make a series each) and status.
pub async fn track(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [("method", method), ("route", route), ("status", response.status().as_u16().to_string())];
    metrics::counter!("studyhall_http_requests_total", &labels).increment(1);
    metrics::histogram!("studyhall_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Prometheus text: everything recorded, and the gauges read now.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let queue = jobs::depth(&state.privileged).await;
    metrics::gauge!("studyhall_database_up").set(f64::from(u8::from(queue.is_ok())));
    if let Ok(queue) = queue {
        metrics::gauge!("studyhall_jobs_queued").set(queue.queued as f64);
        metrics::gauge!("studyhall_jobs_running").set(queue.running as f64);
        metrics::gauge!("studyhall_jobs_oldest_queued_seconds").set(queue.oldest_seconds);
    }
    let replica = state.reads.replica().map(|pool| ("replica", pool));
    for (name, pool) in [("requests", &state.db), ("privileged", &state.privileged)].into_iter().chain(replica) {
        let idle = pool.num_idle() as f64;
        let size = f64::from(pool.size());
        metrics::gauge!("studyhall_db_pool_connections", "pool" => name, "state" => "idle").set(idle);
        metrics::gauge!("studyhall_db_pool_connections", "pool" => name, "state" => "in_use").set(size - idle);
        metrics::gauge!("studyhall_db_pool_max_connections", "pool" => name)
            .set(f64::from(pool.options().get_max_connections()));
    }
    let handle = handle();
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render())
}
