//! The `leadq` command: serve (default), migrate, schema, seed, token.

use clap::{Parser, Subcommand};

/// jemalloc, with its background threads on: memory freed after a heavy request is returned to
/// the system within seconds (`dirty_decay_ms`, 10 s by default), even when no further request
/// comes to trigger the purge. glibc's malloc kept the peak of one heavy request for good.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use entity::Role;
use leadq::config::Settings;
use leadq::startup::{self, Application};
use leadq::{graphql, service, telemetry};

#[derive(Parser)]
#[command(name = "leadq", version, about = "Lead-qualification GraphQL server")]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the API (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL), identical to schema.graphql.
    Schema,
    /// Load a demo data set (users, accounts, contacts, leads in every state) into an empty
    /// database.
    Seed,
    /// Register clients' operation documents as persisted operations (what
    /// LEADQ_PERSISTED_ONLY=true lets run); prints each one's sha256Hash.
    Persist {
        /// GraphQL files, each one document (one or more operations and their fragments), sent
        /// by the client as it is written in the file.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Print a bearer token for a user, creating the user if new.
    Token {
        /// The user's name.
        #[arg(long)]
        name: String,
        /// The user's role (repeat for several): SYSTEM_ADMINISTRATOR, SALES_MANAGER, SALESPERSON.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        /// How long the token is valid, in hours.
        #[arg(long, default_value_t = 24 * 30)]
        ttl_hours: i64,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(&value.trim().to_ascii_uppercase()).ok_or_else(|| {
        format!("unknown role {value:?}: use SYSTEM_ADMINISTRATOR, SALES_MANAGER or SALESPERSON")
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init_with("info,sqlx=warn,sea_orm=warn", cli.settings.log_format);
            let app = Application::build(cli.settings.clone()).await?;
            let address = format!("http://{}", local_address(&cli.settings.bind, app.port()));
            println!("leadq listening on {address}");
            println!("GraphiQL:         {address}/graphql");
            if let Some(dir) = &cli.settings.spa_dir {
                println!("app:              {address}/ (from {})", dir.display());
            }
            if let Some(token) = app.development_token() {
                println!(
                    "development token (System Administrator, already in GraphiQL's headers):"
                );
                println!("  Authorization: Bearer {token}");
            }
            // SIGTERM / Ctrl-C: the server stops accepting, running requests get the grace
            // period, the rest are cancelled, and the process exits 0.
            app.run_until_stopped().await?;
            println!("leadq stopped");
        }
        Command::Migrate => {
            telemetry::init("warn");
            startup::connect_and_migrate(&cli.settings)
                .await?
                .close()
                .await;
            println!("migrations applied");
        }
        Command::Schema => print!("{}", graphql::schema::sdl()),
        Command::Seed => {
            telemetry::init("warn");
            let db = startup::connect_and_migrate(&cli.settings).await?;
            let events = startup::events(&db, &cli.settings).await?;
            let qualifier = startup::qualifier(&db, &cli.settings, events);
            let summary = leadq::seed::seed(&qualifier)
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            db.close().await;
            println!(
                "seeded {} users, {} accounts, {} contacts, {} open, {} qualified and {} disqualified leads",
                summary.users,
                summary.accounts,
                summary.contacts,
                summary.open_leads,
                summary.qualified_leads,
                summary.disqualified_leads
            );
        }
        Command::Persist { files } => {
            telemetry::init("warn");
            let mut documents = Vec::with_capacity(files.len());
            for file in &files {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
                documents.push((file, text));
            }
            let db = startup::connect_and_migrate(&cli.settings).await?;
            for (file, text) in documents {
                let registered = service::persisted::register(&db, &text)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.message()))?;
                println!(
                    "{}  {}  ({})",
                    registered.sha256,
                    file.display(),
                    registered.operations.join(", ")
                );
            }
            db.close().await;
        }
        Command::Token {
            name,
            roles,
            ttl_hours,
        } => {
            telemetry::init("warn");
            let db = startup::connect_and_migrate(&cli.settings).await?;
            let (keys, _) = startup::token_keys(&cli.settings, &db).await?;
            let user = service::users::upsert_by_name(&db, &name, &roles)
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            let token = keys
                .mint(user.id, chrono::Duration::hours(ttl_hours))
                .map_err(|e| anyhow::anyhow!(e.message()))?;
            db.close().await;
            println!("{token}");
        }
    }
    Ok(())
}

/// The address to print: the bound host with the real port.
fn local_address(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    format!("{host}:{port}")
}
