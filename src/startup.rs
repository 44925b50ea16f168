//! Building and running the application: connect, migrate, build the schema once, bind.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware, web};
use anyhow::{Context, bail};
use migration::{Migrator, MigratorTrait};
use tracing_actix_web::TracingLogger;

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::graphql::schema;
use crate::http::{self, HttpState, InFlight, RequestLimits};
use crate::service;
use crate::service::events::{EventOptions, Events};
use crate::service::qualification::concurrency::QueueOptions;
use crate::service::qualification::jobs::worker::WorkerOptions;
use crate::service::qualification::{self, Qualifier};

/// How long the development playground's token is valid.
const DEVELOPMENT_TOKEN_DAYS: i64 = 30;

/// A built, bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    db: Db,
    keys: TokenKeys,
    qualifier: Qualifier,
    development_token: Option<String>,
}

/// How the settings say to connect; `statement_limit` for the connections that serve requests.
fn connect_options(settings: &Settings, statement_limit: Option<Duration>) -> db::ConnectOptions {
    db::ConnectOptions {
        pool_size: settings.db_pool_size,
        lock_timeout: Duration::from_millis(settings.db_lock_timeout_ms),
        statement_limit,
    }
}

/// Connects to the database and applies pending migrations.
pub async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<Db> {
    let db = db::connect(&settings.database_url, connect_options(settings, None))
        .await
        .with_context(|| "cannot connect to the database (check LEADQ_DATABASE_URL)")?;
    Migrator::up(&db.write, None)
        .await
        .context("cannot apply database migrations")?;
    // Keys written by an older normalization are recomputed once (the migration crate cannot
    // call the normalization code).
    if crate::service::duplicates::refresh_match_keys(&db)
        .await
        .map_err(|e| anyhow::anyhow!("cannot recompute match keys: {}", e.message()))?
    {
        tracing::info!("duplicate-match keys recomputed under the current normalization");
    }
    Ok(db)
}

/// The lead event bus, as the settings configure it (on PostgreSQL it starts listening: call it
/// inside the Tokio runtime).
pub async fn events(db: &Db, settings: &Settings) -> anyhow::Result<Events> {
    Events::start(
        db,
        EventOptions {
            max_per_user: settings.max_subscriptions_per_user,
            max_per_process: settings.max_subscriptions,
            buffer: settings.subscription_buffer,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the lead event bus: {}", e.message()))
}

/// The qualification use cases with their queue, as the settings configure them (starts
/// background tasks: call it inside the Tokio runtime).
pub fn qualifier(db: &Db, settings: &Settings, events: Events) -> Qualifier {
    let queue = QueueOptions::for_backend(
        db.backend(),
        settings.db_pool_size,
        settings.qualify_queue_capacity,
        Duration::from_millis(settings.qualify_queue_deadline_ms),
    );
    let mut jobs = WorkerOptions::for_backend(
        db.backend(),
        Duration::from_secs(settings.job_lease_seconds),
    );
    if let Some(workers) = settings.job_workers {
        jobs.workers = workers;
    }
    if let Some(leads) = settings.job_chunk_leads {
        jobs.chunk_leads = leads.clamp(1, 10_000);
    }
    Qualifier::start(
        db.clone(),
        qualification::Options {
            max_bulk_leads: settings.max_bulk_leads,
            idempotency_ttl: Duration::from_secs(settings.idempotency_ttl_seconds),
            idempotency_lease: Duration::from_secs(settings.idempotency_lease_seconds),
            queue,
            max_job_leads: settings.max_job_leads,
            jobs,
        },
        events,
    )
}

/// Connects and migrates, then the connections that serve requests: their statements stop at
/// the request timeout. (Migrations run without that limit: on PostgreSQL they use connections
/// of their own, closed before serving starts; on SQLite the limit is on the readers only.)
async fn serving_connections(settings: &Settings) -> anyhow::Result<Db> {
    let db = connect_and_migrate(settings).await?;
    let url = &settings.database_url;
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(db); // closing would lose it; its one connection serves unlimited
    }
    db.close().await;
    let options = connect_options(settings, Some(settings.request_timeout()));
    db::connect(url, options)
        .await
        .context("cannot connect to the database (check LEADQ_DATABASE_URL)")
}

/// The token keys, and whether they are the generated development ones.
pub async fn token_keys(settings: &Settings, db: &Db) -> anyhow::Result<(TokenKeys, bool)> {
    let (secret, development) = match &settings.jwt_secret {
        Some(secret) if secret.len() < 32 => {
            bail!("LEADQ_JWT_SECRET must be at least 32 characters long")
        }
        Some(secret) => (secret.clone(), false),
        None if settings.production => {
            bail!("production mode needs LEADQ_JWT_SECRET (at least 32 characters)")
        }
        None => (
            service::users::server_secret(db, "development_jwt_secret")
                .await
                .map_err(|e| {
                    anyhow::anyhow!("cannot read the development secret: {}", e.message())
                })?,
            true,
        ),
    };
    let keys = TokenKeys::new(
        secret.as_bytes(),
        settings.jwt_issuer.clone(),
        settings.jwt_audience.clone(),
    )
    .with_max_lifetime(chrono::Duration::hours(
        settings.jwt_max_lifetime_hours.max(1),
    ));
    Ok((keys, development))
}

impl Application {
    /// Connects, migrates, builds the schema and binds `settings.bind` (port 0: any free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        // A missing app is a mistake to report before anything else starts.
        let spa = settings
            .spa_dir
            .as_deref()
            .map(crate::spa::SpaRoot::open)
            .transpose()?;
        let db = serving_connections(&settings).await?;
        let (keys, development) = token_keys(&settings, &db).await?;

        let development_token = if development {
            let admin = service::users::development_admin(&db).await.map_err(|e| {
                anyhow::anyhow!("cannot create the development user: {}", e.message())
            })?;
            Some(
                keys.mint(admin.id, chrono::Duration::days(DEVELOPMENT_TOKEN_DAYS))
                    .map_err(|e| anyhow::anyhow!("cannot mint a token: {}", e.message()))?,
            )
        } else {
            None
        };

        let qualifier = qualifier(&db, &settings, events(&db, &settings).await?);
        let graphiql = settings.graphiql_enabled();
        let schema = schema::build(
            db.clone(),
            settings.introspection_enabled(),
            qualifier.clone(),
            settings.max_query_cost,
        )
        .map_err(|e| anyhow::anyhow!("cannot build the schema: {}", e.message()))?;
        let rate = settings
            .rate_limit()
            .and_then(|rate| http::rate_limiter(rate, settings.rate_limit_burst));
        let state = Arc::new(HttpState {
            schema,
            db: db.clone(),
            keys: keys.clone(),
            limits: RequestLimits {
                timeout: settings.request_timeout(),
                body_timeout: settings.body_timeout(),
                max_body_bytes: settings.max_body_bytes,
                max_response_bytes: settings.max_response_bytes,
                max_uri_bytes: settings.max_uri_bytes,
            },
            rate,
            inflight: settings.inflight_limit().map(InFlight::new),
            introspection: settings.introspection_enabled(),
            websocket_timeout: settings.websocket_timeout(),
            persisted_only: settings.persisted_only,
            persisted: service::persisted::Cache::default(),
            graphiql: graphiql.then(|| http::graphiql_page(None)),
            graphiql_with_token: graphiql
                .then(|| {
                    development_token
                        .as_deref()
                        .map(|t| http::graphiql_page(Some(t)))
                })
                .flatten(),
        });

        if state.rate.is_some() {
            // Forget the buckets of users who have been quiet long enough to have a full one.
            let state = Arc::downgrade(&state);
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    every.tick().await;
                    match state.upgrade() {
                        Some(state) => {
                            if let Some(rate) = &state.rate {
                                rate.retain_recent();
                            }
                        }
                        None => break,
                    }
                }
            });
        }

        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let max_body = settings.max_body_bytes;
        let cors_origins = settings.cors_origins.clone();
        let grace = settings.shutdown_grace_seconds;
        let metrics_enabled = settings.metrics;
        if metrics_enabled {
            crate::metrics::start_upkeep();
        }
        let server = HttpServer::new(move || {
            App::new()
                .wrap(cors(&cors_origins))
                .wrap(middleware::from_fn(http::limit_uri))
                .wrap(middleware::ErrorHandlers::new().default_handler(http::json_errors))
                .wrap(middleware::from_fn(http::access_log))
                .wrap(TracingLogger::default())
                .app_data(web::Data::new(state.clone()))
                .app_data(web::PayloadConfig::new(max_body))
                .service(
                    web::resource("/graphql")
                        .route(web::post().to(http::graphql_post))
                        .route(
                            web::get()
                                .guard(actix_web::guard::Header("upgrade", "websocket"))
                                .to(crate::ws::graphql_ws),
                        )
                        .route(web::get().to(http::graphql_get))
                        .default_service(web::to(http::method_not_allowed)),
                )
                .route("/health", web::get().to(http::health))
                .route("/ready", web::get().to(http::ready))
                .configure(|config| {
                    if graphiql {
                        config.route(
                            "/graphiql/assets/{name}",
                            web::get().to(crate::playground::asset),
                        );
                    }
                })
                .configure(|config| {
                    if metrics_enabled {
                        config.route("/metrics", web::get().to(http::metrics));
                    }
                })
                // Last: the app takes only what no route above takes.
                .configure(|config| {
                    if let Some(spa) = &spa {
                        config
                            .app_data(web::Data::new(spa.clone()))
                            .route("/{path:.*}", web::get().to(crate::spa::serve));
                    }
                })
        })
        // SIGTERM / SIGINT: stop accepting, let running requests finish for `grace` seconds,
        // then drop (cancel) the rest; `run_until_stopped` then returns.
        .shutdown_timeout(grace)
        // A client that closes its side is gone: drop its request (and its work) at once.
        .h1_allow_half_closed(false)
        .client_request_timeout(std::time::Duration::from_secs(10))
        .listen(listener)?
        .run();

        Ok(Self {
            port,
            server,
            db,
            keys,
            qualifier,
            development_token,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database handles (tests use them to arrange data).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The qualification use cases (tests and tools call them directly).
    pub fn qualifier(&self) -> &Qualifier {
        &self.qualifier
    }

    /// The keys tokens are checked with (tests mint tokens with them).
    pub fn token_keys(&self) -> &TokenKeys {
        &self.keys
    }

    /// The development administrator's token, when the development secret is in use.
    pub fn development_token(&self) -> Option<&str> {
        self.development_token.as_deref()
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// CORS for the configured browser origins; none configured: same-origin only.
fn cors(origins: &[String]) -> Cors {
    let base = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers(["authorization", "content-type", "accept"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        return base.allow_any_origin();
    }
    origins
        .iter()
        .filter(|o| !o.is_empty())
        .fold(base, |cors, origin| cors.allowed_origin(origin))
}
