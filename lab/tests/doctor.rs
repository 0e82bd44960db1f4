//! `obslab doctor` against the real server and inbox, and a Grafana
//! stand-in answering the documented responses of Grafana's HTTP API
//! (`/api/health`, `/api/datasources/uid/:uid/health`, `/api/search`):
//! Grafana cannot run on the test machines. The checks of Prometheus and
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
    /// Anonymous requests get 403 on the datasource and search APIs.
    login_required: bool,
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
                warp::reply::with_status(
                    warp::reply::json(&json!({"message": "Successfully queried the Prometheus API.", "status": "OK"})),
                    StatusCode::OK,
                )
            } else {
                warp::reply::with_status(
                    warp::reply::json(&json!({"message": "Data source not found"})),
                    StatusCode::NOT_FOUND,
                )
            }
        });
    let search = warp::path!("api" / "search").and(authorised).map(|()| {
        warp::reply::json(&json!([
            {"id": 1, "uid": "obslab-loadgen", "title": "obslab — load generator", "type": "dash-db", "tags": []},
            {"id": 2, "uid": "obslab-server", "title": "obslab — server", "type": "dash-db", "tags": []}
        ]))
    });
    let app = health
        .or(datasource)
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
    let grafana = start_grafana(Grafana {
        datasource: true,
        login_required: false,
    })
    .await;
    let (ok, out) = doctor(&server.url(), &inbox.url(""), grafana, &[]).await;
    assert!(ok, "{out}");
    for line in [
        "✓ server: /metrics parses",
        "✓ inbox:",
        "✓ Grafana: datasource uid prometheus is healthy",
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
        login_required: false,
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
        datasource: true,
        login_required: true,
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
async fn pieces_that_do_not_answer_fail_naming_them_and_the_fix() {
    let server = start_server(&[]).await;
    let grafana = start_grafana(Grafana {
        datasource: true,
        login_required: false,
    })
    .await;
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
