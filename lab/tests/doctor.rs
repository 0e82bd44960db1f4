//! `obslab doctor` against the real server and inbox, and a Grafana
//! stand-in answering as Grafana's HTTP API does (`/api/health`,
//! `/api/datasources/uid/:uid/health`, the datasource proxy
//! `/api/datasources/proxy/uid/:uid/*`, `/api/search`; the status codes and
//! messages of its handlers): Grafana cannot run on the test machines. The checks of Prometheus and
//! Alertmanager run against the real ones in the end-to-end tests.

use std::convert::Infallible;
use std::net::SocketAddr;

use serde_json::json;
use warp::Filter as _;
use warp::http::StatusCode;

use crate::util::{TOKEN, obslab, start_inbox, start_server};

/// How the stand-in behaves.
#[derive(Clone, Copy)]
struct Grafana {
    /// The datasource of uid `prometheus` is provisioned.
    datasource: bool,
    /// The datasource of uid `alertmanager`: provisioned, and whether the
    /// Alertmanager behind it answers; `None`: not provisioned.
    alertmanager: Option<bool>,
    /// Anonymous requests get 403 on the datasource and search APIs.
    login_required: bool,
}

/// A healthy lab's Grafana.
const HEALTHY: Grafana = Grafana {
    datasource: true,
    alertmanager: Some(true),
    login_required: false,
};

fn reply(
    status: StatusCode,
    body: serde_json::Value,
) -> warp::reply::WithStatus<warp::reply::Json> {
    warp::reply::with_status(warp::reply::json(&body), status)
}

async fn start_grafana(g: Grafana) -> SocketAddr {
    let health = warp::path!("api" / "health").map(|| {
        warp::reply::json(&json!({"commit": "standin", "database": "ok", "version": "11.6.4"}))
    });
    let authorised = warp::header::optional::<String>("authorization").and_then(
        move |auth: Option<String>| async move {
            if g.login_required && auth.is_none() {
                Err(warp::reject::custom(Forbidden))
            } else {
                Ok::<_, warp::Rejection>(())
            }
        },
    );
    let datasource = warp::path!("api" / "datasources" / "uid" / String / "health")
        .and(authorised)
        .map(move |uid: String, ()| {
            if g.datasource && uid == "prometheus" {
                reply(
                    StatusCode::OK,
                    json!({"message": "Successfully queried the Prometheus API.", "status": "OK"}),
                )
            } else {
                // CheckDatasourceHealthWithUID, when the uid is unknown.
                reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"message": "Unable to load datasource metadata"}),
                )
            }
        });
    let proxy = warp::path!(
        "api" / "datasources" / "proxy" / "uid" / String / "api" / "v2" / "status"
    )
    .and(authorised)
    .map(move |uid: String, ()| match g.alertmanager {
        Some(true) if uid == "alertmanager" => reply(
            StatusCode::OK,
            json!({"cluster": {"status": "disabled"}, "config": {"original": "receivers: []"},
                   "uptime": "2026-11-30T10:00:00Z", "versionInfo": {"version": "0.28.1"}}),
        ),
        // The reverse proxy, when the upstream does not answer.
        Some(false) if uid == "alertmanager" => reply(StatusCode::BAD_GATEWAY, json!(null)),
        _ => reply(
            StatusCode::NOT_FOUND,
            json!({"message": "Unable to find datasource"}),
        ),
    });
    let search = warp::path!("api" / "search").and(authorised).map(|()| {
        warp::reply::json(&json!([
            {"id": 1, "uid": "obslab-loadgen", "title": "obslab — load generator", "type": "dash-db", "tags": []},
            {"id": 2, "uid": "obslab-server", "title": "obslab — server", "type": "dash-db", "tags": []}
        ]))
    });
    let app = health
        .or(datasource)
        .or(proxy)
        .or(search)
        .recover(|r: warp::Rejection| async move {
            let status = if r.find::<Forbidden>().is_some() {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            Ok::<_, Infallible>(warp::reply::with_status(
                warp::reply::json(&json!({"message": "Permission denied"})),
                status,
            ))
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(warp::serve(app).incoming(listener).run());
    addr
}

#[derive(Debug)]
struct Forbidden;
impl warp::reject::Reject for Forbidden {}

/// `obslab doctor` with the server, the inbox and Grafana at these
/// addresses, Prometheus and Alertmanager off.
async fn doctor(server: &str, inbox: &str, grafana: SocketAddr, extra: &[&str]) -> (bool, String) {
    let grafana = format!("http://{grafana}");
    let mut args = vec![
        "--server",
        server,
        "--inbox",
        inbox,
        "--grafana",
        &grafana,
        "--prometheus",
        "off",
        "--alertmanager",
        "off",
    ];
    args.extend_from_slice(extra);
    args.push("doctor");
    let (ok, out, err) = obslab(&args).await;
    assert!(err.is_none(), "{err:?}");
    (ok, out)
}

#[tokio::test]
async fn a_healthy_lab_passes_every_check() {
    let server = start_server(&[]).await;
    let inbox = start_inbox(&[]).await;
    let grafana = start_grafana(HEALTHY).await;
    let (ok, out) = doctor(&server.url(), &inbox.url(""), grafana, &[]).await;
    assert!(ok, "{out}");
    for line in [
        "✓ server: /metrics parses",
        "✓ inbox:",
        "✓ Grafana: datasource uid prometheus is healthy",
        "✓ Grafana: datasource uid alertmanager reaches Alertmanager 0.28.1",
        "✓ Grafana: dashboards obslab-server, obslab-loadgen present",
    ] {
        assert!(out.contains(line), "{line:?} missing:\n{out}");
    }
    assert!(!out.contains('✗'), "{out}");
    assert!(!out.contains("Prometheus"), "off is not checked:\n{out}");
}

#[tokio::test]
async fn a_missing_datasource_and_a_refused_login_are_named_with_their_fix() {
    let server = start_server(&[]).await;
    let inbox = start_inbox(&[]).await;
    let grafana = start_grafana(Grafana {
        datasource: false,
        ..HEALTHY
    })
    .await;
    let (ok, out) = doctor(&server.url(), &inbox.url(""), grafana, &[]).await;
    assert!(!ok);
    assert!(
        out.contains(
            "✗ Grafana: dashboard queries use datasource uid prometheus but Grafana has none"
        ),
        "{out}"
    );
    assert!(out.contains("1 check failed"), "{out}");

    let grafana = start_grafana(Grafana {
        login_required: true,
        ..HEALTHY
    })
    .await;
    let (ok, out) = doctor(&server.url(), &inbox.url(""), grafana, &[]).await;
    assert!(!ok);
    assert!(out.contains("OBSLAB_GRAFANA_USER"), "{out}");
    let (ok, out) = doctor(
        &server.url(),
        &inbox.url(""),
        grafana,
        &["--grafana-user", "admin", "--grafana-password", "admin"],
    )
    .await;
    assert!(ok, "{out}");
}

#[tokio::test]
async fn the_alertmanager_datasource_missing_or_cut_off_is_named_with_its_fix() {
    let server = start_server(&[]).await;
    let inbox = start_inbox(&[]).await;
    let grafana = start_grafana(Grafana {
        alertmanager: None,
        ..HEALTHY
    })
    .await;
    let (ok, out) = doctor(&server.url(), &inbox.url(""), grafana, &[]).await;
    assert!(!ok);
    assert!(
        out.contains(
            "✗ Grafana: Grafana's alerting pages use datasource uid alertmanager but Grafana has none: \
             is grafana/provisioning/ mounted?"
        ),
        "{out}"
    );
    assert!(
        out.contains("✓ Grafana: datasource uid prometheus is healthy"),
        "{out}"
    );
    assert!(out.contains("1 check failed"), "{out}");

    let grafana = start_grafana(Grafana {
        alertmanager: Some(false),
        ..HEALTHY
    })
    .await;
    let (ok, out) = doctor(&server.url(), &inbox.url(""), grafana, &[]).await;
    assert!(!ok);
    assert!(
        out.contains("✗ Grafana: datasource uid alertmanager cannot reach Alertmanager (502)")
            && out.contains("docker compose up -d alertmanager"),
        "{out}"
    );
}

#[tokio::test]
async fn pieces_that_do_not_answer_fail_naming_them_and_the_fix() {
    let server = start_server(&[]).await;
    let grafana = start_grafana(HEALTHY).await;
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dead = format!("http://{free}");
    let (ok, out, _) = obslab(&[
        "--server",
        &server.url(),
        "--inbox",
        &dead,
        "--grafana",
        &format!("http://{grafana}"),
        "--prometheus",
        &dead,
        "--alertmanager",
        "off",
        "doctor",
    ])
    .await;
    assert!(!ok);
    assert!(
        out.contains("✗ Prometheus") && out.contains("docker compose up -d prometheus"),
        "{out}"
    );
    assert!(
        out.contains("✗ inbox") && out.contains("docker compose up -d inbox"),
        "{out}"
    );
    assert!(out.contains("2 checks failed"), "{out}");
}

#[tokio::test]
async fn a_server_in_outage_is_told_how_to_end_it() {
    let server = start_server(&[]).await;
    let (ok, _, err) = obslab(&[
        "--server",
        &server.url(),
        "--admin-token",
        TOKEN,
        "faults",
        "set",
        "outage=true",
    ])
    .await;
    assert!(ok, "{err:?}");
    let (ok, out, _) = obslab(&[
        "--server",
        &server.url(),
        "--inbox",
        "off",
        "--grafana",
        "off",
        "--prometheus",
        "off",
        "--alertmanager",
        "off",
        "doctor",
    ])
    .await;
    assert!(!ok);
    assert!(out.contains("obslab faults reset"), "{out}");
}

/// The targets verdict on answers shaped as Prometheus' `/api/v1/targets`
/// gives them: the optional job of séance 9 (`student-service`) with no
/// target or its target down is "not started (optional)", up it is checked
/// like the others, and every other job keeps failing with no target.
mod optional_job {
    use chrono::{DateTime, Utc};
    use obslab_lab::prometheus_checks::{OPTIONAL_JOBS, targets_verdict};
    use serde_json::{Value, json};

    const CONFIG: &str = "global:\n  scrape_interval: 5s\nscrape_configs:\n\
        - job_name: obslab-server\n  static_configs: []\n\
        - job_name: student-service\n  dns_sd_configs: []\n";

    fn now() -> DateTime<Utc> {
        "2026-12-06T10:00:10Z".parse().unwrap()
    }

    fn target(job: &str, instance: &str, health: &str, last: &str) -> Value {
        json!({"labels": {"job": job, "instance": instance}, "health": health,
               "lastError": if health == "up" { "" } else { "connection refused" },
               "lastScrape": last, "scrapeInterval": "5s"})
    }

    fn server() -> Value {
        target("obslab-server", "server:5000", "up", "2026-12-06T10:00:08Z")
    }

    #[test]
    fn the_job_is_the_student_service_of_the_guide() {
        assert_eq!(OPTIONAL_JOBS, ["student-service"]);
    }

    #[test]
    fn no_target_is_not_started() {
        let line = targets_verdict(CONFIG, &[server()], now()).expect("passes");
        assert_eq!(
            line,
            "1 targets up in 1 jobs, scraped recently; student-service not started \
             (optional: docker compose --profile instrumentation up -d)"
        );
    }

    #[test]
    fn its_target_down_is_not_started() {
        let down = target(
            "student-service",
            "10.0.0.7:8000",
            "down",
            "2026-12-06T10:00:09Z",
        );
        let line = targets_verdict(CONFIG, &[server(), down], now()).expect("passes");
        assert!(line.starts_with("1 targets up in 1 jobs"), "{line}");
        assert!(
            line.contains("student-service not started (optional"),
            "{line}"
        );
    }

    #[test]
    fn up_it_is_checked_like_the_others() {
        let fresh = target(
            "student-service",
            "10.0.0.7:8000",
            "up",
            "2026-12-06T10:00:09Z",
        );
        let line = targets_verdict(CONFIG, &[server(), fresh], now()).expect("passes");
        assert_eq!(line, "2 targets up in 2 jobs, scraped recently");

        let stale = target(
            "student-service",
            "10.0.0.7:8000",
            "up",
            "2026-12-06T09:59:00Z",
        );
        let err = targets_verdict(CONFIG, &[server(), stale.clone()], now()).unwrap_err();
        assert!(
            err.contains("target student-service (10.0.0.7:8000) was last scraped 70s ago"),
            "{err}"
        );

        // Started twice, one replica down: that one is a problem.
        let down = target(
            "student-service",
            "10.0.0.8:8000",
            "down",
            "2026-12-06T10:00:09Z",
        );
        let fresh = target(
            "student-service",
            "10.0.0.7:8000",
            "up",
            "2026-12-06T10:00:09Z",
        );
        let err = targets_verdict(CONFIG, &[server(), fresh, down], now()).unwrap_err();
        assert!(
            err.contains("target student-service (10.0.0.8:8000) is down (connection refused)"),
            "{err}"
        );
    }

    #[test]
    fn any_other_job_without_target_still_fails() {
        let alone = target(
            "student-service",
            "10.0.0.7:8000",
            "up",
            "2026-12-06T10:00:09Z",
        );
        let err = targets_verdict(CONFIG, &[alone], now()).unwrap_err();
        assert_eq!(
            err,
            "job obslab-server has no target at all: check its static_configs in prometheus/prometheus.yml"
        );
        let down = target(
            "obslab-server",
            "server:5000",
            "down",
            "2026-12-06T10:00:09Z",
        );
        let err = targets_verdict(CONFIG, &[down], now()).unwrap_err();
        assert!(
            err.starts_with(
                "target obslab-server (server:5000) is down (connection refused): \
                                 docker compose up -d server"
            ),
            "{err}"
        );
    }
}
