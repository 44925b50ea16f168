//! Building and running the application: connect, migrate, build the schema once, bind.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::{Context, bail};
use migration::{Migrator, MigratorTrait};
use tracing_actix_web::TracingLogger;

use crate::auth::TokenKeys;
use crate::config::Settings;
use crate::db::{self, Db};
use crate::graphql::schema;
use crate::http::{self, HttpState};
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

/// Connects to the database and applies pending migrations.
pub async fn connect_and_migrate(settings: &Settings) -> anyhow::Result<Db> {
    let options = db::ConnectOptions {
        pool_size: settings.db_pool_size,
        lock_timeout: Duration::from_millis(settings.db_lock_timeout_ms),
        statement_timeout: Duration::from_millis(settings.db_statement_timeout_ms),
    };
    let db = db::connect(&settings.database_url, options)
        .await
        .with_context(|| "cannot connect to the database (check LEADQ_DATABASE_URL)")?;
    Migrator::up(&db.write, None)
        .await
        .context("cannot apply database migrations")?;
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
            buffer: 1_024,
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
    );
    Ok((keys, development))
}

impl Application {
    /// Connects, migrates, builds the schema and binds `settings.bind` (port 0: any free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = connect_and_migrate(&settings).await?;
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
        let state = Arc::new(HttpState {
            schema: schema::build(
                db.clone(),
                settings.introspection_enabled(),
                qualifier.clone(),
            ),
            db: db.clone(),
            keys: keys.clone(),
            introspection: settings.introspection_enabled(),
            graphiql: graphiql.then(|| http::graphiql_page(None)),
            graphiql_with_token: graphiql
                .then(|| {
                    development_token
                        .as_deref()
                        .map(|t| http::graphiql_page(Some(t)))
                })
                .flatten(),
        });

        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let max_body = settings.max_body_bytes;
        let cors_origins = settings.cors_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(cors(&cors_origins))
                .wrap(TracingLogger::default())
                .app_data(web::Data::new(state.clone()))
                .app_data(web::PayloadConfig::new(max_body))
                .route("/graphql", web::post().to(http::graphql_post))
                .route("/graphql", web::get().to(http::graphql_get))
                .route("/health", web::get().to(http::health))
        })
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
